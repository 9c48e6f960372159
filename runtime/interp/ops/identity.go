package ops

import "fmt"

// Identity passes its input through, floats or integers; sequences and
// optionals (opsets 14 and 16) are not tensors and never reach it.
func init() { register("Identity", 1, func(*Node) (Op, error) { return identity{}, nil }) }

type identity struct{}

func (identity) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	return []*Tensor{in[0]}, nil
}

func (identity) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{dy[0]}, nil
}
