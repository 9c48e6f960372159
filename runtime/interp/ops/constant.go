package ops

import (
	"fmt"

	"github.com/onnxguard/onnxguard/onnx"
)

// Constant's value comes from exactly one attribute: value (a tensor, all
// opsets) or, from opset 12, value_float(s) and value_int(s).
func init() { register("Constant", 1, newConstant) }

type constant struct{ t *Tensor }

func newConstant(n *Node) (Op, error) {
	var set []string
	for _, name := range n.AttrNames() {
		switch name {
		case "value", "value_float", "value_floats", "value_int", "value_ints":
			set = append(set, name)
		case "sparse_value", "value_string", "value_strings":
			return nil, fmt.Errorf("%w: Constant with attribute %s", ErrUnsupported, name)
		}
	}
	if len(set) != 1 {
		return nil, fmt.Errorf("needs exactly one value attribute, has %v", set)
	}
	var c constant
	switch set[0] {
	case "value":
		t, err := n.Tensor("value", n.Dir)
		if err != nil {
			return nil, err
		}
		c.t = FromONNX(t)
	case "value_float":
		v, err := n.Float("value_float", 0)
		if err != nil {
			return nil, err
		}
		c.t = &Tensor{Shape: []int{}, Data: []float32{v}}
	case "value_floats":
		v, err := n.Floats("value_floats", nil)
		if err != nil {
			return nil, err
		}
		c.t = &Tensor{Shape: []int{len(v)}, Data: append([]float32{}, v...)}
	case "value_int":
		v, err := n.Int("value_int", 0)
		if err != nil {
			return nil, err
		}
		c.t = NewInts([]int{}, []int64{v})
	case "value_ints":
		v, err := n.Ints("value_ints", nil)
		if err != nil {
			return nil, err
		}
		c.t = NewInts([]int{len(v)}, append([]int64{}, v...))
	}
	return c, nil
}

// FromONNX converts a decoded ONNX tensor (an initializer, a Constant's
// value) to the interpreter's, sharing its values.
func FromONNX(t *onnx.Tensor) *Tensor {
	shape := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		shape[i] = int(d)
	}
	if t.IsFloat() {
		if t.Float == nil {
			t.Float = []float32{}
		}
		return &Tensor{Shape: shape, Data: t.Float, Elem: t.DataType}
	}
	v := NewInts(shape, t.Int)
	v.Elem = t.DataType
	return v
}

// Forward returns the same tensor every run; no op writes to its inputs.
func (c constant) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	return []*Tensor{c.t}, nil
}

func (constant) Backward(s *State, dy []*Tensor) ([]*Tensor, error) { return nil, nil }

// Foldable: a Constant is computed once, at compile time.
func (constant) Foldable() {}
