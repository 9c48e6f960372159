package ops

import "fmt"

func init() {
	register("Squeeze", 1, newSqueezeAttr)
	register("Squeeze", 13, newSqueeze) // axes became an optional input
}

// squeezeOp drops unit axes: those listed (negative ones count from the
// end, as opset 11 allowed), or every unit axis when none are.
type squeezeOp struct {
	axes      []int64
	axesInput bool
}

func newSqueezeAttr(n *Node) (Op, error) {
	axes, err := n.Ints("axes", nil)
	return squeezeOp{axes: axes}, err
}

func newSqueeze(*Node) (Op, error) { return squeezeOp{axesInput: true}, nil }

func (q squeezeOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	axes := q.axes
	if q.axesInput {
		axes, _ = intsIn(in, 1)
	}
	drop := make([]bool, x.Rank())
	for _, a := range axes {
		ax, err := normAxis(a, x.Rank())
		if err != nil {
			return nil, err
		}
		if x.Shape[ax] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of %v: its size is %d, not 1", a, ShapeString(x.Shape), x.Shape[ax])
		}
		drop[ax] = true
	}
	shape := make([]int, 0, x.Rank())
	for i, d := range x.Shape {
		if !drop[i] && (len(axes) > 0 || d != 1) {
			shape = append(shape, d)
		}
	}
	s.SetAux(x.Shape)
	return []*Tensor{reshaped(x, shape)}, nil
}

func (squeezeOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{regrad(dy[0], s.Aux()), nil}, nil
}
