package tensor

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
	// uint8 quantization and CastLike its target.
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
