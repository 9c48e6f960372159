package interp

import (
	"fmt"

	"github.com/onnxguard/onnxguard/runtime"
)

// Engine adapts a Program to runtime.Engine. It runs in inference mode; a
// model exported with a fixed batch runs in chunks of it, the last one
// padded (runtime.Batches).
type Engine struct{ P *Program }

var _ runtime.Engine = Engine{}

// Run implements runtime.Engine.
func (e Engine) Run(dst, x []float32, n int) ([]float32, []int64, error) {
	shape := intShape(e.P.Input.Shape)
	shape[0] = n
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	if len(x) != n*per {
		return nil, nil, fmt.Errorf("%d input values for %d samples of %v", len(x), n, e.P.Input.Shape[1:])
	}
	if d := int(e.P.Input.Shape[0]); d > 0 && d != n {
		return e.runFixed(dst, x, n, d, per)
	}
	outs, err := e.P.Run(&Tensor{Shape: shape, Data: x})
	if err != nil {
		return nil, nil, err
	}
	t := outs[0]
	if t.IsInt() {
		return nil, nil, fmt.Errorf("the model's first output holds integers, not scores")
	}
	return append(dst[:0], t.Data...), int64Shape(t.Shape), nil
}

// runFixed runs n samples through a model whose batch is fixed at b.
func (e Engine) runFixed(dst, x []float32, n, b, per int) ([]float32, []int64, error) {
	var out []float32
	var shape []int64
	in := intShape(e.P.Input.Shape)
	_, err := runtime.Batches(nil, n, b, per, func(batch []float32, first, k int) {
		copy(batch, x[first*per:(first+k)*per])
	}, func(batch []float32, _, k int) error {
		outs, err := e.P.Run(&Tensor{Shape: in, Data: batch})
		if err != nil {
			return err
		}
		o := outs[0]
		if o.IsInt() || len(o.Shape) == 0 || o.Shape[0] != b {
			return fmt.Errorf("output %v does not have the batch of %d first", o, b)
		}
		each := o.Len() / b
		out = append(out, o.Data[:k*each]...)
		if shape == nil {
			shape = int64Shape(o.Shape)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	shape[0] = int64(n)
	return append(dst[:0], out...), shape, nil
}

// Close implements runtime.Engine.
func (Engine) Close() error { return nil }

func intShape(s []int64) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

func int64Shape(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}
