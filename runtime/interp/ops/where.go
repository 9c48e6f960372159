package ops

import "fmt"

func init() { register("Where", 9, func(*Node) (Op, error) { return whereOp{}, nil }) }

// whereOp picks X where the condition is true and Y elsewhere, the three
// broadcast together. The gradient flows to the branch that was picked.
type whereOp struct{}

// whereSaved holds the broadcast condition and the branches' shapes.
type whereSaved struct {
	cond           []int64
	shape          []int
	xShape, yShape []int
}

func (whereOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	for i, name := range []string{"condition", "X", "Y"} {
		if i >= len(in) || in[i] == nil {
			return nil, fmt.Errorf("input %d (%s) is missing", i, name)
		}
	}
	c, x, y := in[0], in[1], in[2]
	if !c.IsInt() {
		return nil, fmt.Errorf("condition %v must be boolean", c)
	}
	if !sameKind(x, y) {
		return nil, fmt.Errorf("X %v and Y %v mix floats and integers", x, y)
	}
	shape, err := broadcastShape(c.Shape, x.Shape)
	if err == nil {
		shape, err = broadcastShape(shape, y.Shape)
	}
	if err != nil {
		return nil, err
	}
	c, x, y = expandTensor(c, shape), expandTensor(x, shape), expandTensor(y, shape)
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	out := zerosOfKind(x, shape)
	if x.IsInt() {
		whereSelect(out.Ints, c.Ints, x.Ints, y.Ints)
	} else {
		whereSelect(out.Data, c.Ints, x.Data, y.Data)
	}
	s.SetAux(whereSaved{cond: c.Ints, shape: shape, xShape: in[1].Shape, yShape: in[2].Shape})
	return []*Tensor{out}, nil
}

func whereSelect[T tensorValue](dst []T, c []int64, x, y []T) {
	for i, v := range c {
		if v != 0 {
			dst[i] = x[i]
		} else {
			dst[i] = y[i]
		}
	}
}

func (whereOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if dy[0] == nil || dy[0].IsInt() {
		return []*Tensor{nil, nil, nil}, nil
	}
	sv := s.Aux().(whereSaved)
	dx, dz := NewFloat(sv.shape...), NewFloat(sv.shape...)
	for i, g := range dy[0].Data {
		if sv.cond[i] != 0 {
			dx.Data[i] = g
		} else {
			dz.Data[i] = g
		}
	}
	return []*Tensor{nil, reduceTo(dx, sv.xShape), reduceTo(dz, sv.yShape)}, nil
}
