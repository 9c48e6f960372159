package runtime

import (
	"fmt"

	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Engine runs a classifier on a batch of model inputs.
type Engine interface {
	// Run runs n samples, x holding n·C·H·W float32 values already
	// preprocessed, and returns the first output with its shape. dst is
	// reused when large enough.
	Run(dst, x []float32, n int) (out []float32, shape []int64, err error)
	Close() error
}

// Interp adapts a compiled interpreter Program to Engine; it runs in
// inference mode.
type Interp struct{ P *interp.Program }

// Run implements Engine.
func (e Interp) Run(dst, x []float32, n int) ([]float32, []int64, error) {
	shape := intShape(e.P.Input.Shape)
	shape[0] = n
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	if len(x) != n*per {
		return nil, nil, fmt.Errorf("%d input values for %d samples of %v", len(x), n, e.P.Input.Shape[1:])
	}
	if d := e.P.Input.Shape[0]; d > 0 && int(d) != n {
		return e.runFixed(dst, x, n, int(d), per)
	}
	outs, err := e.P.Run(&interp.Tensor{Shape: shape, Data: x})
	if err != nil {
		return nil, nil, err
	}
	return copyOut(dst, outs[0])
}

// runFixed serves models exported with a fixed batch by running chunks of
// that size, the last one padded.
func (e Interp) runFixed(dst, x []float32, n, b, per int) ([]float32, []int64, error) {
	var out []float32
	var shape []int64
	chunk := make([]float32, b*per)
	shp := intShape(e.P.Input.Shape)
	for i := 0; i < n; i += b {
		k := min(b, n-i)
		clear(chunk)
		copy(chunk, x[i*per:(i+k)*per])
		outs, err := e.P.Run(&interp.Tensor{Shape: shp, Data: chunk})
		if err != nil {
			return nil, nil, err
		}
		o := outs[0]
		if o.IsInt() || len(o.Shape) == 0 || o.Shape[0] != b {
			return nil, nil, fmt.Errorf("output %v does not have the batch of %d first", o, b)
		}
		each := o.Len() / b
		out = append(out, o.Data[:k*each]...)
		if shape == nil {
			shape = make([]int64, len(o.Shape))
			for j, d := range o.Shape {
				shape[j] = int64(d)
			}
		}
	}
	shape[0] = int64(n)
	return append(dst[:0], out...), shape, nil
}

func intShape(s []int64) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

func copyOut(dst []float32, t *interp.Tensor) ([]float32, []int64, error) {
	if t.IsInt() {
		return nil, nil, fmt.Errorf("the model's first output holds integers, not scores")
	}
	shape := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int64(d)
	}
	return append(dst[:0], t.Data...), shape, nil
}

// Close implements Engine.
func (Interp) Close() error { return nil }
