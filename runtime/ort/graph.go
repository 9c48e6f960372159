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
// returns one per output. Output data is copied to Go memory.
func (g *Graph) Run(ins []Tensor) ([]Tensor, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sess == nil {
		return nil, errors.New("ort: Graph.Run: the session is closed")
	}
	if len(ins) != len(g.inputs) {
		return nil, fmt.Errorf("ort: Graph.Run: %d tensors for %d inputs %q", len(ins), len(g.inputs), g.inputs)
	}
	vals := make([]ortgo.Value, len(ins))
	defer func() {
		for _, v := range vals {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, t := range ins {
		var err error
		switch {
		case len(t.Shape) == 0 && len(t.Float) == 1:
			// A scalar (a weight fed to a gradient graph): the binding's
			// tensors need at least one axis.
			vals[i], err = ortgo.NewScalar(t.Float[0])
		case len(t.Shape) == 0 && len(t.Int) == 1:
			vals[i], err = ortgo.NewScalar(t.Int[0])
		case t.Int != nil:
			vals[i], err = ortgo.NewTensor(ortgo.NewShape(t.Shape...), t.Int)
		default:
			vals[i], err = ortgo.NewTensor(ortgo.NewShape(t.Shape...), t.Float)
		}
		if err != nil {
			return nil, fmt.Errorf("ort: Graph.Run: input %q of shape %v: %w", g.inputs[i], t.Shape, err)
		}
	}
	outs := make([]ortgo.Value, len(g.outputs))
	if err := g.sess.Run(vals, outs); err != nil {
		return nil, fmt.Errorf("ort: running the graph: %w", err)
	}
	// The binding copies each output ONNX Runtime allocated into Go memory
	// and wraps that (createTensorFromOrtValue); Destroy lets go of the
	// wrapper, not the slice, which the result keeps as it is. A second
	// copy cost ResNet-50's training graph 100 MB of weight gradients a
	// pass (TestGraphRunOutputsOwned checks that no later run writes
	// into a result).
	res := make([]Tensor, len(outs))
	for i, v := range outs {
		switch t := v.(type) {
		case *ortgo.Tensor[float32]:
			res[i] = Tensor{Shape: t.GetShape(), Float: t.GetData()}
		case *ortgo.Tensor[int64]:
			res[i] = Tensor{Shape: t.GetShape(), Int: t.GetData()}
		default:
			err := fmt.Errorf("ort: output %q came back as %T, not a float32 or int64 tensor", g.outputs[i], v)
			for _, o := range outs {
				o.Destroy()
			}
			return nil, err
		}
		v.Destroy()
	}
	return res, nil
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
