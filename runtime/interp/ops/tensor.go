package ops

import (
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/onnx"
)

// Tensor is a dense row-major tensor. Float tensors use Data; integer and
// bool tensors (shapes, indices, masks) use Ints. A scalar has an empty Shape.
type Tensor struct {
	Shape []int
	Data  []float32
	Ints  []int64
	// Elem is the ONNX element type where it is known (initializers,
	// Constants, quantized outputs) and 0 elsewhere: it tells int8 from
	// uint8 quantization (quantizelinear.go) and CastLike its target.
	Elem onnx.TensorProto_DataType
}

// NewFloat returns a zeroed float tensor of the given shape.
func NewFloat(shape ...int) *Tensor {
	return &Tensor{Shape: shape, Data: make([]float32, Numel(shape))}
}

// NewInts returns an integer tensor holding v with the given shape.
func NewInts(shape []int, v []int64) *Tensor {
	if v == nil {
		v = []int64{}
	}
	return &Tensor{Shape: shape, Ints: v}
}

// IsInt reports whether t holds integers.
func (t *Tensor) IsInt() bool { return t.Ints != nil }

// Len returns the number of elements.
func (t *Tensor) Len() int { return Numel(t.Shape) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

func (t *Tensor) String() string {
	kind := "float"
	if t.IsInt() {
		kind = "int"
	}
	return fmt.Sprintf("%s%s", kind, ShapeString(t.Shape))
}

// Numel is the number of elements of a shape.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ShapeString formats a shape as [2 3 4].
func ShapeString(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(s, " ") + "]"
}

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
