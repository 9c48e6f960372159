package ops

import "fmt"

func init() { register("ConstantOfShape", 9, newConstantOfShape) }

// constantOfShape fills a tensor of the shape given by its input with the
// one-element value attribute, float 0 by default.
type constantOfShape struct{ value *Tensor }

func newConstantOfShape(n *Node) (Op, error) {
	t, err := n.Tensor("value", n.Dir)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return constantOfShape{&Tensor{Shape: []int{1}, Data: []float32{0}}}, nil
	}
	if t.Len() != 1 {
		return nil, fmt.Errorf("value has %d elements, want one", t.Len())
	}
	return constantOfShape{FromONNX(t)}, nil
}

func (c constantOfShape) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	dims, ok := intsIn(in, 0)
	if !ok {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("shape %v has a negative dimension", dims)
		}
		shape[i] = int(d)
	}
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	if c.value.IsInt() {
		y := NewInts(shape, make([]int64, Numel(shape)))
		for i := range y.Ints {
			y.Ints[i] = c.value.Ints[0]
		}
		return []*Tensor{y}, nil
	}
	y := NewFloat(shape...)
	if v := c.value.Data[0]; v != 0 {
		for i := range y.Data {
			y.Data[i] = v
		}
	}
	return []*Tensor{y}, nil
}

func (constantOfShape) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{nil}, nil
}
