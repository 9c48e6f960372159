//go:build cgo

package ort

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Graph is an ONNX model with any number of named float32 and int64 inputs
// and outputs in an ONNX Runtime session, such as a gradient graph (package
// gradgraph). Unlike Session it takes no view of what the model computes:
// callers pass every input and get every output asked for. Runs are
// serialised.
type Graph struct {
	mu      sync.Mutex
	sess    *ortgo.DynamicAdvancedSession // nil once closed
	device  string
	inputs  []string
	outputs []string
}

// OpenGraph loads a model held in memory, to be run with the named inputs
// and outputs. The model is not pre-flighted as Open's are: it is meant for
// graphs onnxguard built from a model that was.
func OpenGraph(onnx []byte, inputs, outputs []string, opt *Options) (*Graph, error) {
	if len(onnx) == 0 {
		return nil, errors.New("ort: OpenGraph: the model is empty (0 bytes)")
	}
	return OpenGraphForms(func(block int) ([]byte, error) {
		if block > 0 {
			return nil, ErrNoForm
		}
		return onnx, nil
	}, inputs, outputs, opt)
}

// OpenGraphForms is OpenGraph for a graph written for the provider that
// runs it: form(block) gives the bytes the session loads, with block the
// channel block of the CPU provider's NCHWc kernels (NCHWcBlock) where
// the session runs on a CPU that has them, so that the graph may use the
// operators of NCHWcDomain, and 0 otherwise (CUDA, other CPUs); for a
// block it has no form of its own for, form returns ErrNoForm and the
// session loads form(0). Where the blocked form fails, the portable one
// opens, with a notice on opt.Warn. form may be called more than once
// (device auto tries CUDA first).
func OpenGraphForms(form func(block int) ([]byte, error), inputs, outputs []string, opt *Options) (*Graph, error) {
	set, err := opt.settings()
	if err != nil {
		return nil, err
	}
	if set.library, err = loadLibrary(set.library, set.verbose); err != nil {
		return nil, err
	}
	if set.device == DeviceCUDA {
		if dir, missing := missingCUDAFiles(set.library); len(missing) > 0 {
			return nil, errCUDAFilesMissing(dir, missing)
		}
	}
	g := &Graph{inputs: slices.Clone(inputs), outputs: slices.Clone(outputs)}
	g.sess, g.device, err = model{name: "graph (from memory)", gradient: true, form: form}.start(set, g.inputs, g.outputs)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Tensor is an input or output of Graph.Run: float32 data in Float or
// int64 data in Int; an input with no axes is a scalar.
type Tensor struct {
	Shape []int64
	Float []float32
	Int   []int64
}

// Run runs the graph on one tensor per input, in OpenGraph's order, and
// returns one per output, each in Go memory of its own that no later run
// writes.
func (g *Graph) Run(ins []Tensor) ([]Tensor, error) { return g.RunInto(ins, nil) }

// RunInto is Run writing output i into into[i] where into[i] holds float32
// data and has at least one axis: ONNX Runtime then computes the output
// in that memory, and the result is into[i] itself. Its shape must be the
// output's for these inputs exactly (as a run with the same batch gave
// it), and the output a float32 one, or the run fails. Outputs given no
// such room (into nil or shorter, an empty Tensor, room without float32
// data or without axes) are allocated as Run's are.
// Outputs given room this way skip ONNX Runtime's allocation of each and
// the binding's copy into Go memory: on ResNet-50's training graph, whose
// weight gradients are 100 MB a pass, reusing them (gradgraph's Engine
// does, once a result is released) took its paper step from 6.06-6.19 s
// to 5.46-5.70 s (three alternated runs each, 2-core AMD EPYC); fresh Go
// memory each pass cost page faults as well as the copy.
func (g *Graph) RunInto(ins, into []Tensor) ([]Tensor, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sess == nil {
		return nil, errors.New("ort: Graph.Run: the session is closed")
	}
	if len(ins) != len(g.inputs) {
		return nil, fmt.Errorf("ort: Graph.Run: %d tensors for %d inputs %q", len(ins), len(g.inputs), g.inputs)
	}
	if len(into) > len(g.outputs) {
		return nil, fmt.Errorf("ort: Graph.Run: room for %d outputs, the graph has %d %q", len(into), len(g.outputs), g.outputs)
	}
	vals, err := newValues(ins, g.inputs, "input", false)
	defer destroyAll(vals)
	if err != nil {
		return nil, err
	}
	given, err := newValues(roomFor(into, len(g.outputs)), g.outputs, "room for output", true)
	defer destroyAll(given)
	if err != nil {
		return nil, err
	}
	outs := slices.Clone(given)
	// The outputs ONNX Runtime allocated: the binding copies each into Go
	// memory and wraps that (createTensorFromOrtValue); Destroy lets go of
	// the wrapper, not the slice, which the result keeps as it is. A
	// second copy cost ResNet-50's training graph 100 MB of weight
	// gradients a pass (TestGraphRunOutputsOwned checks that no later run
	// writes into a result). An output given room is that room's own
	// slice, its wrapper destroyed with given.
	defer func() {
		for i, o := range outs {
			if o != nil && given[i] == nil {
				o.Destroy()
			}
		}
	}()
	if err := g.sess.Run(vals, outs); err != nil {
		return nil, fmt.Errorf("ort: running the graph: %w", err)
	}
	res := make([]Tensor, len(outs))
	for i, v := range outs {
		switch t := v.(type) {
		case *ortgo.Tensor[float32]:
			res[i] = Tensor{Shape: t.GetShape(), Float: t.GetData()}
		case *ortgo.Tensor[int64]:
			res[i] = Tensor{Shape: t.GetShape(), Int: t.GetData()}
		default:
			return nil, fmt.Errorf("ort: output %q came back as %T, not a float32 or int64 tensor", g.outputs[i], v)
		}
	}
	return res, nil
}

// roomFor returns, for each of n outputs, the tensor of into that RunInto
// writes it into: those with float32 data and at least one axis; the
// others' places (and those past into) are empty.
func roomFor(into []Tensor, n int) []Tensor {
	room := make([]Tensor, n)
	for i, t := range into {
		if t.Float != nil && len(t.Shape) > 0 {
			room[i] = Tensor{Shape: t.Shape, Float: t.Float}
		}
	}
	return room
}

// newValues wraps each tensor of ts as a Value over its own memory; what
// names the tensors' places in errors. Where optional, an empty Tensor{}
// leaves its place nil; otherwise it is an error.
func newValues(ts []Tensor, names []string, what string, optional bool) ([]ortgo.Value, error) {
	vals := make([]ortgo.Value, len(ts))
	for i, t := range ts {
		if optional && t.Float == nil && t.Int == nil {
			continue
		}
		v, err := newValue(t)
		if err != nil {
			return vals, fmt.Errorf("ort: Graph.Run: %s %q of shape %v: %w", what, names[i], t.Shape, err)
		}
		vals[i] = v
	}
	return vals, nil
}

// newValue wraps t as a Value over its own memory: nil where it fails (a
// nil *Tensor in an interface would not be).
func newValue(t Tensor) (ortgo.Value, error) {
	var v ortgo.Value
	var err error
	switch {
	case len(t.Shape) == 0 && len(t.Float) == 1:
		// A scalar (a weight fed to a gradient graph): the binding's
		// tensors need at least one axis.
		var s *ortgo.Scalar[float32]
		if s, err = ortgo.NewScalar(t.Float[0]); err == nil {
			v = s
		}
	case len(t.Shape) == 0 && len(t.Int) == 1:
		var s *ortgo.Scalar[int64]
		if s, err = ortgo.NewScalar(t.Int[0]); err == nil {
			v = s
		}
	case t.Int != nil:
		var x *ortgo.Tensor[int64]
		if x, err = ortgo.NewTensor(ortgo.NewShape(t.Shape...), t.Int); err == nil {
			v = x
		}
	default:
		var x *ortgo.Tensor[float32]
		if x, err = ortgo.NewTensor(ortgo.NewShape(t.Shape...), t.Float); err == nil {
			v = x
		}
	}
	return v, err
}

// destroyAll destroys every Value of vals that is not nil.
func destroyAll(vals []ortgo.Value) {
	for _, v := range vals {
		if v != nil {
			v.Destroy()
		}
	}
}

// Device returns the device the graph runs on: "cpu" or "cuda".
func (g *Graph) Device() string { return g.device }

// Close releases the session. Closing twice is harmless.
func (g *Graph) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sess == nil {
		return nil
	}
	err := g.sess.Destroy()
	leaveArena()
	g.sess = nil
	if err != nil {
		return fmt.Errorf("ort: closing the graph's session: %w", err)
	}
	return nil
}
