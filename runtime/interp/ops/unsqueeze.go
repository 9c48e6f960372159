package ops

import "fmt"

func init() {
	register("Unsqueeze", 1, newUnsqueezeAttr)
	register("Unsqueeze", 13, newUnsqueeze) // axes became an input
}

// unsqueezeOp inserts unit axes at the listed positions of the output;
// negative positions (opset 11) count from the output's end.
type unsqueezeOp struct {
	axes      []int64
	axesInput bool
}

func newUnsqueezeAttr(n *Node) (Op, error) {
	axes, err := n.Ints("axes", nil)
	if err == nil && axes == nil {
		err = fmt.Errorf("attribute axes is required before opset 13")
	}
	return unsqueezeOp{axes: axes}, err
}

func newUnsqueeze(*Node) (Op, error) { return unsqueezeOp{axesInput: true}, nil }

func (u unsqueezeOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	axes := u.axes
	if u.axesInput {
		var ok bool
		if axes, ok = intsIn(in, 1); !ok {
			return nil, fmt.Errorf("input 1 (axes) is missing")
		}
	}
	r := x.Rank() + len(axes)
	unit := make([]bool, r)
	for _, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if unit[ax] {
			return nil, fmt.Errorf("axes %v repeat axis %d", axes, ax)
		}
		unit[ax] = true
	}
	shape := make([]int, r)
	j := 0
	for i := range shape {
		if unit[i] {
			shape[i] = 1
		} else {
			shape[i] = x.Shape[j]
			j++
		}
	}
	s.SetAux(x.Shape)
	return []*Tensor{reshaped(x, shape)}, nil
}

func (unsqueezeOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{regrad(dy[0], s.Aux()), nil}, nil
}
