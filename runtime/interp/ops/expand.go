package ops

import "fmt"

func init() { register("Expand", 8, func(*Node) (Op, error) { return expandOp{}, nil }) }

// expandOp broadcasts its input against a shape, in both directions as
// NumPy does: a 1 in the shape keeps the input's dimension.
type expandOp struct{}

func (expandOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	x := in[0]
	target, ok := intsIn(in, 1)
	if !ok {
		return nil, fmt.Errorf("input 1 (shape) is missing")
	}
	want := make([]int, len(target))
	for i, d := range target {
		if d < 0 {
			return nil, fmt.Errorf("shape %v has a negative dimension", target)
		}
		want[i] = int(d)
	}
	shape, err := broadcastShape(x.Shape, want)
	if err != nil {
		return nil, err
	}
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	s.SetAux(x.Shape)
	return []*Tensor{expandTensor(x, shape)}, nil
}

func (expandOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if dy[0] == nil || dy[0].IsInt() {
		return []*Tensor{nil, nil}, nil
	}
	return []*Tensor{reduceTo(dy[0], s.Aux().([]int)), nil}, nil
}
