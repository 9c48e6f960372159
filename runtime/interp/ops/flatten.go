package ops

import "fmt"

// Opset 11 allowed negative axes; accepting them at every opset costs
// nothing, so one version serves opsets 1 to 21.
func init() { register("Flatten", 1, newFlatten) }

// flattenOp reshapes to 2-D: the axes before axis, then the rest.
type flattenOp struct{ axis int64 }

func newFlatten(n *Node) (Op, error) {
	axis, err := n.Int("axis", 1)
	return flattenOp{axis}, err
}

func (f flattenOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	x := in[0]
	r := x.Rank()
	axis := int(f.axis)
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis > r {
		return nil, fmt.Errorf("axis %d out of range for rank %d", f.axis, r)
	}
	s.SetAux(x.Shape)
	return []*Tensor{reshaped(x, []int{Numel(x.Shape[:axis]), Numel(x.Shape[axis:])})}, nil
}

func (flattenOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{regrad(dy[0], s.Aux())}, nil
}

// regrad is the backward pass of every op that only changes the shape: the
// output gradient viewed with the input's shape (kept by SetAux).
func regrad(dy *Tensor, shape any) *Tensor {
	if dy == nil {
		return nil
	}
	return reshaped(dy, shape.([]int))
}
