package arch

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// Options choose the model's shape and weights; nil means defaults.
type Options struct {
	// Input is the sample's shape: channels, height, width. The zero value
	// means 1×28×28 (MNIST, Fashion-MNIST).
	Input [3]int
	// Classes is the number of outputs; 0 means 10.
	Classes int
	// Seed seeds the weight initialisation.
	Seed uint64
}

// Defaults for a nil or zero Options.
var (
	DefaultInput   = [3]int{1, 28, 28}
	DefaultClasses = 10
)

// maxParams bounds a model's size: its weights are held in one protobuf,
// which cannot exceed 2 GiB.
const maxParams = 1 << 28

// layer is one step of an architecture. For conv and dense, n is the number
// of filters or units, 0 for the dense layer that gives the classes.
type layer struct {
	op    string // conv, relu, pool, dropout, flatten, dense
	n     int
	ratio float32 // dropout
}

// units is a dense layer's width: n, or the classes where n is 0.
func (l layer) units(classes int) int {
	if l.n == 0 {
		return classes
	}
	return l.n
}

type architecture struct {
	name, summary string
	layers        []layer
}

var (
	conv    = func(n int) layer { return layer{op: "conv", n: n} }
	dense   = func(n int) layer { return layer{op: "dense", n: n} }
	dropout = func(r float32) layer { return layer{op: "dropout", ratio: r} }
	relu    = layer{op: "relu"}
	pool    = layer{op: "pool"}
	flatten = layer{op: "flatten"}
	logits  = layer{op: "dense"}
)

// architectures are the seed paper's two CNNs. Convolutions are 3×3 with
// padding 1 and max-pools 2×2 with stride 2, so each pool halves the image;
// paper-simple at 1×28×28 is testdata/models/fmnist_cnn.onnx's architecture.
var architectures = []architecture{
	{"paper-simple", "conv 3×3 32 + ReLU, max-pool 2, conv 3×3 64 + ReLU, max-pool 2, flatten, dense 128 + ReLU, dense classes",
		[]layer{conv(32), relu, pool, conv(64), relu, pool, flatten, dense(128), relu, logits}},
	{"paper-complex", "2× (conv 3×3 32 + ReLU), max-pool 2, dropout 0.25, 2× (conv 3×3 64 + ReLU), max-pool 2, dropout 0.25, flatten, dense 512 + ReLU, dropout 0.5, dense classes",
		[]layer{conv(32), relu, conv(32), relu, pool, dropout(0.25),
			conv(64), relu, conv(64), relu, pool, dropout(0.25),
			flatten, dense(512), relu, dropout(0.5), logits}},
}

// Names returns the architectures Build knows, in a fixed order.
func Names() []string {
	names := make([]string, len(architectures))
	for i, a := range architectures {
		names[i] = a.name
	}
	return names
}

// Summary describes the named architecture's layers in one line; it is ""
// for an unknown name.
func Summary(name string) string {
	for _, a := range architectures {
		if a.name == name {
			return a.summary
		}
	}
	return ""
}

// Build returns the named architecture as a model with freshly initialised
// weights. The model is what onnx.Parse gives for its serialized bytes:
// Save writes those bytes, Marshal returns them, and they are the same for
// the same name and options.
func Build(name string, opt *Options) (*onnx.Model, error) {
	var a *architecture
	for i := range architectures {
		if architectures[i].name == name {
			a = &architectures[i]
		}
	}
	if a == nil {
		return nil, fmt.Errorf("arch: unknown architecture %q; choose one of %s", name, strings.Join(Names(), ", "))
	}
	o, err := opt.settings()
	if err != nil {
		return nil, err
	}
	if err := a.check(o); err != nil {
		return nil, err
	}
	b := newBuilder(o)
	for _, l := range a.layers {
		switch l.op {
		case "conv":
			b.conv(l.n)
		case "relu":
			b.relu()
		case "pool":
			b.maxPool()
		case "dropout":
			b.dropout(l.ratio)
		case "flatten":
			b.flatten()
		case "dense":
			b.dense(l.units(o.Classes))
		}
	}
	mp := b.model(a.name, a.summary)
	mp.MetadataProps = []*onnx.StringStringEntryProto{
		{Key: proto.String("onnxguard.arch"), Value: proto.String(a.name)},
		{Key: proto.String("onnxguard.seed"), Value: proto.String(strconv.FormatUint(o.Seed, 10))},
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("arch: encoding %s: %w", a.name, err)
	}
	return onnx.Parse(data, "")
}

// settings fills in the defaults and checks the options.
func (o *Options) settings() (Options, error) {
	var s Options
	if o != nil {
		s = *o
	}
	if s.Input == [3]int{} {
		s.Input = DefaultInput
	}
	if s.Classes == 0 {
		s.Classes = DefaultClasses
	}
	for _, d := range s.Input {
		if d < 1 {
			return s, fmt.Errorf("arch: input shape %s: every dimension (channels, height, width) must be at least 1", FormatInput(s.Input))
		}
	}
	if s.Classes < 2 {
		return s, fmt.Errorf("arch: %d classes; a classifier needs at least 2", s.Classes)
	}
	return s, nil
}

// check makes sure the input survives a's pooling and the model's size is
// within bounds, before any weight is drawn.
func (a *architecture) check(o Options) error {
	c, h, w := o.Input[0], o.Input[1], o.Input[2]
	var params, features int64
	for _, l := range a.layers {
		switch l.op {
		case "pool":
			if h < 2 || w < 2 {
				return fmt.Errorf("arch: input %s is too small for %s: its %d max-pools halve height and width %d times, so both must be at least %d",
					FormatInput(o.Input), a.name, a.pools(), a.pools(), 1<<a.pools())
			}
			h, w = h/2, w/2
		case "conv":
			params += int64(l.n)*int64(c)*9 + int64(l.n)
			c = l.n
		case "flatten":
			features = int64(c) * int64(h) * int64(w)
		case "dense":
			n := int64(l.units(o.Classes))
			params += n*features + n
			features = n
		}
		if params > maxParams {
			return fmt.Errorf("arch: %s on input %s with %d classes would have over %d parameters, more than an ONNX file holds without external data; use a smaller input",
				a.name, FormatInput(o.Input), o.Classes, maxParams)
		}
	}
	return nil
}

func (a *architecture) pools() int {
	n := 0
	for _, l := range a.layers {
		if l.op == "pool" {
			n++
		}
	}
	return n
}

// ParseInput reads a sample shape written as channels×height×width:
// "1x28x28", "3×32×32" or "3,224,224".
func ParseInput(s string) ([3]int, error) {
	var shape [3]int
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == 'x' || r == 'X' || r == '×' || r == ',' })
	if len(parts) != 3 {
		return shape, fmt.Errorf("input shape %q: want channels×height×width, e.g. 1x28x28 or 3x32x32", s)
	}
	for i, p := range parts {
		d, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || d < 1 {
			return shape, fmt.Errorf("input shape %q: %q is not a positive whole number; want channels×height×width, e.g. 1x28x28", s, p)
		}
		shape[i] = d
	}
	return shape, nil
}

// FormatInput writes a sample shape as ParseInput reads it.
func FormatInput(s [3]int) string { return fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]) }
