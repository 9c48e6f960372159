package gradgraph

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// InputInfo declares the model's input, as the interpreter's Program does.
func (e *Engine) InputInfo() onnx.ValueInfo {
	shape := append([]int64{-1}, e.sample...)
	if e.g.Batch > 0 {
		shape[0] = int64(e.g.Batch)
	}
	return onnx.ValueInfo{Name: e.g.Input, Shape: shape, ElemType: onnx.TensorProto_FLOAT}
}

// Run returns the model's outputs for batch x (inference), as
// interp.Program.Run does: its first output first. x's batch must be the
// model's where that is fixed.
func (e *Engine) Run(x *interp.Tensor) ([]*interp.Tensor, error) {
	if x == nil || len(x.Shape) == 0 || x.Shape[0] < 0 {
		return nil, fmt.Errorf("the input must be a batch, first axis the samples; got %v", x)
	}
	outs, _, err := e.run(x, make([]int, x.Shape[0]), e.g.Outputs, false)
	if err != nil {
		return nil, err
	}
	return outs, nil
}

// Grad computes what want asks for on batch x with labels, as
// interp.Program.Grad does: the mean softmax cross-entropy, its logits, the
// input gradient and, from a graph built with Options.Weights, the weight
// gradients (aligned with Graph.Params, which are the interpreter's Params).
// A custom want.Loss is an error: the graph holds its one loss. x's batch
// must be the model's where that is fixed (padding would change the weight
// gradients).
func (e *Engine) Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error) {
	if want.Loss != nil {
		return nil, fmt.Errorf("%w: a custom loss; the gradient graph computes the mean softmax cross-entropy only", ErrUnsupported)
	}
	if want.Training {
		return nil, fmt.Errorf("%w: training mode; the gradient graph runs the model in inference mode (Dropout off, BatchNormalization on its running statistics)", ErrUnsupported)
	}
	if want.Params && len(e.g.ParamGrads) == 0 {
		return nil, fmt.Errorf("%w: weight gradients from a graph built without Options.Weights", ErrUnsupported)
	}
	// The input gradient only where it is wanted: ONNX Runtime then skips
	// the first layer's backward step (a training pass asks for the
	// weights' alone).
	names := []string{e.g.Logits, e.g.Loss}
	if want.Input {
		names = append(names, e.g.InputGrad)
	}
	first := len(names)
	if want.Params {
		names = append(names, e.g.ParamGrads...)
	}
	outs, keep, err := e.run(x, labels, names, true)
	if err != nil {
		return nil, err
	}
	for i, o := range outs {
		if o.Data == nil && o.Len() > 0 {
			return nil, fmt.Errorf("gradgraph: output %q is not float32", names[i])
		}
	}
	r := &interp.Result{Logits: outs[0]}
	if r.Loss, err = meanCrossEntropy(outs[0].Data, labels, x.Shape[0]); err != nil {
		return nil, err
	}
	if want.Input {
		r.Input = outs[2]
	}
	if want.Params {
		r.Params = outs[first:]
		for i, reached := range e.g.Reached {
			if !reached {
				r.Params[i] = nil
			}
		}
	}
	r.OnRelease(keep)
	return r, nil
}

// run runs the graph on one batch for the named outputs, through a session
// opened for that set of names on first use. Where reuse is set, it
// computes them in the room of a result released before (room.go), and
// keep hands this run's outputs to the room: the caller calls it when
// it is done with them (a result's Release).
func (e *Engine) run(x *interp.Tensor, labels []int, names []string, reuse bool) (outs []*interp.Tensor, keep func(), err error) {
	n := 0
	if len(x.Shape) > 0 {
		n = x.Shape[0]
	}
	if len(x.Shape) != len(e.sample)+1 || !slices.Equal(int64s(x.Shape[1:]), e.sample) || len(x.Data) != n*e.perX ||
		e.g.Batch > 0 && n != e.g.Batch || len(labels) != n || n == 0 {
		return nil, nil, fmt.Errorf("gradgraph: input %q wants %v, got %v with %d labels", e.g.Input, e.InputInfo().Shape, x.Shape, len(labels))
	}
	outputs := fmt.Sprint(names) // the session's key, and the room's
	sess, err := e.session(outputs, names)
	if err != nil {
		return nil, nil, err
	}
	ys := make([]int64, n)
	for i, y := range labels {
		ys[i] = int64(y)
	}
	ins, err := e.feeds(ort.Tensor{Shape: append([]int64{int64(n)}, e.sample...), Float: x.Data}, ys)
	if err != nil {
		return nil, nil, err
	}
	key := roomKey{outputs, n}
	var into []ort.Tensor
	if reuse {
		into = e.room.take(key)
	}
	got, err := sess.RunInto(ins, into)
	if err != nil {
		return nil, nil, err
	}
	outs = make([]*interp.Tensor, len(got))
	for i, t := range got {
		shape := make([]int, len(t.Shape))
		for j, d := range t.Shape {
			shape[j] = int(d)
		}
		switch {
		case t.Float != nil:
			outs[i] = &interp.Tensor{Shape: shape, Data: t.Float}
		case t.Int != nil: // a model's int64 output (an ArgMax label), for Run
			outs[i] = &interp.Tensor{Shape: shape, Ints: t.Int}
		default:
			return nil, nil, fmt.Errorf("gradgraph: output %q is neither float32 nor int64", names[i])
		}
	}
	return outs, func() { e.room.give(key, got) }, nil
}

// session returns the session computing the named outputs (key is their
// fmt.Sprint), opening it on first use: ONNX Runtime then skips what those
// outputs do not need (the weight gradients of an input-gradient step,
// the backward pass of Run).
func (e *Engine) session(key string, names []string) (*ort.Graph, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.sessions[key]; ok {
		return s, nil
	}
	s, err := e.open(names)
	if err != nil {
		return nil, err
	}
	e.sessions[key] = s
	return s, nil
}

func int64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}
