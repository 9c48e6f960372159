package ops

import "fmt"

func init() {
	register("ReduceProd", 1, newReduceProd(false))
	register("ReduceProd", 18, newReduceProd(true)) // axes became an optional input
}

// reduceProd multiplies over the axes; it borrows ReduceSum's attribute
// handling and reduction plan (reduction.go), whose outputs say which
// output each element belongs to. The gradient of each factor
// is dy times the product of the others: with no zero in the group that is
// y/x; with one zero, only the zero gets the product of the rest; with
// more, every factor gets 0.
type reduceProd struct{ sum *reduction }

func newReduceProd(axesInput bool) constructor {
	return func(n *Node) (Op, error) {
		r, err := newReduction(reduceSum, axesInput)(n)
		if err != nil {
			return nil, err
		}
		return &reduceProd{sum: r.(*reduction)}, nil
	}
}

type reduceProdSaved struct {
	x     *Tensor
	group []int // each input element's output
	n     int   // outputs
}

func (o *reduceProd) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "data")
	if err != nil {
		return nil, err
	}
	p, shape, noop, err := o.sum.plan(in)
	if err != nil {
		return nil, err
	}
	group := make([]int, x.Len())
	n := x.Len()
	if noop { // each element its own output
		shape = x.Shape
		for i := range group {
			group[i] = i
		}
	} else {
		n = Numel(shape)
		p.outputs(group)
	}
	y := NewFloat(append([]int(nil), shape...)...)
	for i := range y.Data {
		y.Data[i] = 1
	}
	for i, v := range x.Data {
		y.Data[group[i]] *= v
	}
	s.Save(x) // pinned: the aux below reads it
	s.SetAux(reduceProdSaved{x: x, group: group, n: n})
	return []*Tensor{y}, nil
}

func (o *reduceProd) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(reduceProdSaved)
	if !ok {
		return nil, fmt.Errorf("ReduceProd: backward without a forward pass")
	}
	rest, zeros := make([]float64, a.n), make([]int, a.n) // product of the non-zero factors
	for i := range rest {
		rest[i] = 1
	}
	for i, v := range a.x.Data {
		if v == 0 {
			zeros[a.group[i]]++
		} else {
			rest[a.group[i]] *= float64(v)
		}
	}
	dx := like(a.x)
	for i, v := range a.x.Data {
		g := a.group[i]
		switch {
		case zeros[g] == 0:
			dx.Data[i] = float32(float64(dy[0].Data[g]) * rest[g] / float64(v))
		case zeros[g] == 1 && v == 0:
			dx.Data[i] = float32(float64(dy[0].Data[g]) * rest[g])
		}
	}
	return []*Tensor{dx, nil}, nil
}
