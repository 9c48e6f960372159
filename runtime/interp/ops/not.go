package ops

import "fmt"

func init() { register("Not", 1, func(*Node) (Op, error) { return not{}, nil }) }

// not negates a bool tensor held as 0/1 integers.
type not struct{}

func (not) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil || !in[0].IsInt() {
		return nil, fmt.Errorf("input 0 (X) must be a bool tensor")
	}
	x := in[0]
	y := NewInts(append([]int(nil), x.Shape...), make([]int64, len(x.Ints)))
	for i, v := range x.Ints {
		if v == 0 {
			y.Ints[i] = 1
		}
	}
	return []*Tensor{y}, nil
}

func (not) Backward(s *State, dy []*Tensor) ([]*Tensor, error) { return []*Tensor{nil}, nil }
