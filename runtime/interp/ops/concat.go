package ops

import "fmt"

func init() {
	register("Concat", 1, newConcat(true))
	register("Concat", 4, newConcat(false)) // axis became required
}

// concatOp joins its inputs, all floats or all integers, along axis;
// negative axes (opset 11) count from the end.
type concatOp struct{ axis int64 }

func newConcat(defaultAxis bool) constructor {
	return func(n *Node) (Op, error) {
		if !defaultAxis && !n.Has("axis") {
			return nil, fmt.Errorf("attribute axis is required from opset 4")
		}
		axis, err := n.Int("axis", 1)
		return concatOp{axis}, err
	}
}

// concatSaved is what Concat's backward pass needs: each input's width
// along the joined axis times the inner size, and the row count.
type concatSaved struct {
	shapes [][]int
	widths []int
	outer  int
}

func (c concatOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("needs at least one input")
	}
	x0 := in[0]
	axis, err := normAxis(c.axis, x0.Rank())
	if err != nil {
		return nil, err
	}
	shape := append([]int(nil), x0.Shape...)
	shape[axis] = 0
	outer, inner := Numel(x0.Shape[:axis]), Numel(x0.Shape[axis+1:])
	sv := concatSaved{outer: outer}
	for i, x := range in {
		if x == nil {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		if !sameKind(x0, x) {
			return nil, fmt.Errorf("inputs %v and %v mix floats and integers", x0, x)
		}
		if x.Rank() != x0.Rank() {
			return nil, fmt.Errorf("input %d %v has rank %d, input 0 %v rank %d", i, x, x.Rank(), x0, x0.Rank())
		}
		for a, d := range x.Shape {
			if a != axis && d != x0.Shape[a] {
				return nil, fmt.Errorf("input %d %v and input 0 %v differ off axis %d", i, x, x0, axis)
			}
		}
		shape[axis] += x.Shape[axis]
		sv.shapes = append(sv.shapes, x.Shape)
		sv.widths = append(sv.widths, x.Shape[axis]*inner)
	}
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	y := zerosOfKind(x0, shape)
	if x0.IsInt() {
		srcs := make([][]int64, len(in))
		for i, x := range in {
			srcs[i] = x.Ints
		}
		joinRows(y.Ints, srcs, sv.widths, outer)
	} else {
		srcs := make([][]float32, len(in))
		for i, x := range in {
			srcs[i] = x.Data
		}
		joinRows(y.Data, srcs, sv.widths, outer)
	}
	s.SetAux(sv)
	return []*Tensor{y}, nil
}

func (concatOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	sv := s.Aux().(concatSaved)
	dx := make([]*Tensor, len(sv.shapes))
	if dy[0] == nil || dy[0].IsInt() {
		return dx, nil
	}
	dsts := make([][]float32, len(dx))
	for i, shape := range sv.shapes {
		dx[i] = NewFloat(shape...)
		dsts[i] = dx[i].Data
	}
	splitRows(dsts, dy[0].Data, sv.widths, sv.outer)
	return dx, nil
}
