package ops

import (
	"fmt"

	"github.com/onnxguard/onnxguard/runtime/interp/tensor"
)

// Tensor is the interpreter's tensor (package tensor), which every
// operator reads and writes.
type Tensor = tensor.Tensor

// NewFloat is tensor.NewFloat.
func NewFloat(shape ...int) *Tensor { return tensor.NewFloat(shape...) }

// NewInts is tensor.NewInts.
func NewInts(shape []int, v []int64) *Tensor { return tensor.NewInts(shape, v) }

// Numel is tensor.Numel.
func Numel(shape []int) int { return tensor.Numel(shape) }

// ShapeString is tensor.ShapeString.
func ShapeString(shape []int) string { return tensor.ShapeString(shape) }

// strides returns row-major strides of shape.
func strides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	a := int(axis)
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return a, nil
}

// like returns a zeroed float tensor with t's shape.
func like(t *Tensor) *Tensor { return NewFloat(append([]int(nil), t.Shape...)...) }

// floatIn checks that input i exists and holds floats.
func floatIn(in []*Tensor, i int, what string) (*Tensor, error) {
	if i >= len(in) || in[i] == nil {
		return nil, fmt.Errorf("input %d (%s) is missing", i, what)
	}
	if in[i].IsInt() {
		return nil, fmt.Errorf("input %d (%s) holds integers, want floats", i, what)
	}
	return in[i], nil
}

// intsIn returns input i as integers (floats are truncated, as some exporters
// store shapes in float tensors); ok is false when the input is absent.
func intsIn(in []*Tensor, i int) (v []int64, ok bool) {
	if i >= len(in) || in[i] == nil {
		return nil, false
	}
	if in[i].IsInt() {
		return in[i].Ints, true
	}
	v = make([]int64, len(in[i].Data))
	for j, f := range in[i].Data {
		v[j] = int64(f)
	}
	return v, true
}

// fromFloat64 returns a float tensor of the given shape holding v, sums
// that were accumulated in float64 for accuracy.
func fromFloat64(shape []int, v []float64) *Tensor {
	t := NewFloat(append([]int(nil), shape...)...)
	for i, x := range v {
		t.Data[i] = float32(x)
	}
	return t
}
