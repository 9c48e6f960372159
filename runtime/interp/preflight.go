package interp

import (
	"errors"
	"fmt"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// Preflight checks a model that another engine, ONNX Runtime, is to run,
// as far as the interpreter can judge it, so that a malformed or hostile
// file is refused with an error rather than crashing that engine (a
// stride of 0 kills ONNX Runtime with SIGFPE while it builds the
// session). It checks that external data stays in the model's folder,
// builds every node the interpreter implements from its attributes
// (strides, kernels, dilations, pads, groups, axes), checks the declared
// inputs against the memory budget, and, where the interpreter runs the
// whole graph, infers every shape for one sample within the budget.
// What the interpreter does not implement it leaves to the other engine:
// ErrUnsupported never fails a pre-flight.
//
// Checking the shapes compiles the model, so Preflight returns that
// program where the interpreter runs the whole graph (nil otherwise): a
// caller that wants the interpreter too need not compile the model again.
func Preflight(m *onnx.Model, opt *Options) (*Program, error) {
	if err := m.CheckExternal(); err != nil {
		return nil, err
	}
	g, err := m.Graph()
	if err != nil {
		return nil, err
	}
	whole := true
	for _, n := range g.Nodes {
		if _, err := ops.New(n, g.Opset, m.Dir); errors.Is(err, ErrUnsupported) {
			whole = false
		} else if err != nil {
			return nil, err
		}
	}
	budget := opt.budget()
	for _, in := range g.Inputs {
		shape := make([]int, len(in.Shape))
		for i, d := range in.Shape {
			shape[i] = max(int(d), 1) // a dynamic axis counts as one
		}
		if err := CheckInputSize(in.Name, shape, budget); err != nil {
			return nil, err
		}
	}
	if !whole {
		return nil, nil
	}
	p, err := Compile(m, opt)
	switch {
	case errors.Is(err, ErrUnsupported):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("checking shapes: %w", err)
	}
	return p, nil
}

// PreflightCheck is Preflight within maxMemory bytes (0 means
// DefaultMaxMemory) as the check another engine runs before it opens a
// model: it is what ort.Options.Check takes.
func PreflightCheck(m *onnx.Model, maxMemory int64) error {
	_, err := Preflight(m, &Options{MaxMemory: maxMemory})
	return err
}
