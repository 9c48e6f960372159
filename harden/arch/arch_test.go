package arch

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

var builds = []struct {
	arch   string
	opt    *Options
	params int64
}{
	// 421642 is testdata/models/fmnist_cnn.onnx's count: the same network.
	{"paper-simple", nil, 421642},
	{"paper-simple", &Options{Input: [3]int{3, 32, 32}, Classes: 10, Seed: 7}, 32*3*9 + 32 + 64*32*9 + 64 + 128*64*8*8 + 128 + 10*128 + 10},
	{"paper-complex", &Options{Input: [3]int{3, 32, 32}}, 32*3*9 + 32 + 32*32*9 + 32 + 64*32*9 + 64 + 64*64*9 + 64 + 512*64*8*8 + 512 + 10*512 + 10},
	{"paper-complex", &Options{Input: [3]int{1, 28, 28}, Classes: 5, Seed: 3}, 32*9 + 32 + 32*32*9 + 32 + 64*32*9 + 64 + 64*64*9 + 64 + 512*64*7*7 + 512 + 5*512 + 5},
	{"paper-simple", &Options{Input: [3]int{1, 5, 7}, Classes: 2}, 32*9 + 32 + 64*32*9 + 64 + 128*64*1*1 + 128 + 2*128 + 2},
}

func randomBatch(n int, shape [3]int, seed uint64) *interp.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := &interp.Tensor{Shape: []int{n, shape[0], shape[1], shape[2]}, Data: make([]float32, n*shape[0]*shape[1]*shape[2])}
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	return x
}

func settingsOf(t *testing.T, opt *Options) Options {
	t.Helper()
	o, err := opt.settings()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestBuild checks each model's interface, operators and size, runs it in
// the interpreter and, where ONNX Runtime is installed, there too.
func TestBuild(t *testing.T) {
	for _, test := range builds {
		o := settingsOf(t, test.opt)
		m, err := Build(test.arch, test.opt)
		if err != nil {
			t.Fatalf("%s %+v: %v", test.arch, o, err)
		}
		data, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := onnx.Parse(data, ""); err != nil {
			t.Fatalf("%s: its bytes do not parse: %v", test.arch, err)
		}
		g, err := m.Graph()
		if err != nil {
			t.Fatalf("%s: %v", test.arch, err)
		}
		if m.Proto.GetIrVersion() != 8 || g.Opset != 13 || m.Proto.GetProducerName() != "onnxguard" {
			t.Errorf("%s: IR %d, opset %d, producer %q", test.arch, m.Proto.GetIrVersion(), g.Opset, m.Proto.GetProducerName())
		}
		in, out := g.Inputs[0], g.Outputs[0]
		if len(g.Inputs) != 1 || in.Name != "input" || !slices.Equal(in.Shape, []int64{-1, int64(o.Input[0]), int64(o.Input[1]), int64(o.Input[2])}) || in.DimNames[0] != "N" {
			t.Errorf("%s: inputs %+v, want input [N %v]", test.arch, g.Inputs, o.Input)
		}
		if len(g.Outputs) != 1 || out.Name != "logits" || !slices.Equal(out.Shape, []int64{-1, int64(o.Classes)}) {
			t.Errorf("%s: outputs %+v, want logits [N %d]", test.arch, g.Outputs, o.Classes)
		}
		if got := g.ParamCount(); got != test.params {
			t.Errorf("%s %v: %d parameters, want %d", test.arch, o.Input, got, test.params)
		}
		for op := range g.OpHistogram() {
			if !slices.Contains([]string{"Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Dropout", "Constant"}, op) {
				t.Errorf("%s: uses %s", test.arch, op)
			}
		}
		if d := g.OpHistogram()["Dropout"]; (test.arch == "paper-complex") != (d == 3) || test.arch == "paper-simple" && d != 0 {
			t.Errorf("%s: %d Dropout nodes", test.arch, d)
		}

		p, err := interp.Compile(m, nil)
		if err != nil {
			t.Fatalf("%s: the interpreter cannot compile it: %v", test.arch, err)
		}
		x := randomBatch(3, o.Input, 1)
		outs, err := p.Run(x)
		if err != nil {
			t.Fatalf("%s: %v", test.arch, err)
		}
		if got := outs[0].Shape; !slices.Equal(got, []int{3, o.Classes}) {
			t.Errorf("%s: logits of shape %v, want [3 %d]", test.arch, got, o.Classes)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, name := range Names() {
		bytesOf := func(seed uint64) []byte {
			m, err := Build(name, &Options{Input: [3]int{3, 16, 16}, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			data, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
		a, b, c := bytesOf(42), bytesOf(42), bytesOf(43)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two builds with seed 42 differ", name)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s: seeds 42 and 43 give the same bytes", name)
		}
	}
}

// TestInitialisation checks He-normal weights (mean 0, standard deviation
// √(2/fan-in)) and zero biases.
func TestInitialisation(t *testing.T) {
	m, err := Build("paper-simple", nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := m.Graph()
	for _, test := range []struct {
		name  string
		fanIn int
	}{{"conv1.weight", 9}, {"conv2.weight", 32 * 9}, {"fc1.weight", 3136}, {"fc2.weight", 128}} {
		w, ok, err := g.Initializer(test.name)
		if !ok || err != nil {
			t.Fatalf("%s: %v, %v", test.name, ok, err)
		}
		var sum, sq float64
		for _, v := range w.Float {
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(w.Float))
		mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
		want := math.Sqrt(2 / float64(test.fanIn))
		// Tolerances of about four standard errors of each estimate.
		if math.Abs(mean) > 4*want/math.Sqrt(n) || math.Abs(std/want-1) > 4/math.Sqrt(2*n) {
			t.Errorf("%s: mean %.4g, std %.4g; want 0 and %.4g", test.name, mean, std, want)
		}
	}
	for _, name := range []string{"conv1.bias", "conv2.bias", "fc1.bias", "fc2.bias"} {
		b, _, _ := g.Initializer(name)
		if slices.ContainsFunc(b.Float, func(v float32) bool { return v != 0 }) {
			t.Errorf("%s is not zero", name)
		}
	}
}

// TestGradientFlows takes one loss gradient through each model and checks
// every weight and bias receives a non-zero gradient.
func TestGradientFlows(t *testing.T) {
	for _, name := range Names() {
		shape := [3]int{3, 16, 16}
		m, err := Build(name, &Options{Input: shape, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		p, err := interp.Compile(m, &interp.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Grad(randomBatch(8, shape, 3), []int{0, 1, 2, 3, 4, 5, 6, 7}, interp.Want{Mode: interp.Mode{Training: true}, Params: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, prm := range p.Params() {
			if r.Params[i] == nil || !slices.ContainsFunc(r.Params[i].Data, func(v float32) bool { return v != 0 }) {
				t.Errorf("%s: no gradient reaches %s", name, prm.Name)
			}
		}
	}
}

func TestBuildErrors(t *testing.T) {
	for _, test := range []struct {
		arch string
		opt  *Options
		want string
	}{
		{"resnet", nil, `unknown architecture "resnet"; choose one of paper-simple, paper-complex`},
		{"paper-simple", &Options{Input: [3]int{1, 3, 28}}, "input 1x3x28 is too small for paper-simple: its 2 max-pools halve height and width 2 times, so both must be at least 4"},
		{"paper-complex", &Options{Input: [3]int{3, 32, 2}}, "too small for paper-complex"},
		{"paper-simple", &Options{Input: [3]int{0, 28, 28}}, "must be at least 1"},
		{"paper-simple", &Options{Classes: 1}, "1 classes; a classifier needs at least 2"},
		{"paper-simple", &Options{Classes: -3}, "at least 2"},
		{"paper-complex", &Options{Input: [3]int{3, 4096, 4096}}, "parameters"},
	} {
		_, err := Build(test.arch, test.opt)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("Build(%q, %+v): got %v, want an error containing %q", test.arch, test.opt, err, test.want)
		}
	}
}

func TestParseInput(t *testing.T) {
	for _, test := range []struct {
		in   string
		want [3]int
		ok   bool
	}{
		{"1x28x28", [3]int{1, 28, 28}, true},
		{"3×32×32", [3]int{3, 32, 32}, true},
		{"3,224,224", [3]int{3, 224, 224}, true},
		{"3X8X9", [3]int{3, 8, 9}, true},
		{"28x28", [3]int{}, false},
		{"1x28x28x1", [3]int{}, false},
		{"1xax28", [3]int{}, false},
		{"1x0x28", [3]int{}, false},
		{"", [3]int{}, false},
	} {
		got, err := ParseInput(test.in)
		if (err == nil) != test.ok || test.ok && got != test.want {
			t.Errorf("ParseInput(%q) = %v, %v; want %v, ok %v", test.in, got, err, test.want, test.ok)
		}
		if test.ok && FormatInput(got) != strings.NewReplacer("×", "x", ",", "x", "X", "x").Replace(test.in) {
			t.Errorf("FormatInput(%v) = %q", got, FormatInput(got))
		}
	}
}
