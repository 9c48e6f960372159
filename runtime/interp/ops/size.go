package ops

import "fmt"

func init() { register("Size", 1, func(*Node) (Op, error) { return sizeOp{}, nil }) }

// sizeOp returns the input's element count as an int64 scalar.
type sizeOp struct{}

func (sizeOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	return []*Tensor{NewInts([]int{}, []int64{int64(in[0].Len())})}, nil
}

func (sizeOp) Backward(*State, []*Tensor) ([]*Tensor, error) { return []*Tensor{nil}, nil }
