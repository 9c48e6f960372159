package ops

import "fmt"

func init() {
	register("ReduceProd", 1, newReduceProd(false))
	register("ReduceProd", 18, newReduceProd(true)) // axes became an optional input
}

// reduceProd multiplies over the axes; it borrows ReduceSum's attribute
// handling and reduction plan (reduction.go). The gradient of each factor
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
	// ReduceSum, run on zeros, gives the output shape and its reduction
	// plan, whose spread of the output indices says which output each
	// element belongs to.
	inner := &State{Grad: true}
	outs, err := o.sum.Forward(inner, append([]*Tensor{like(x)}, in[1:]...))
	if err != nil {
		return nil, err
	}
	shape := outs[0].Shape
	sv, _ := inner.Aux().(*reductionSaved)
	group := make([]int, x.Len())
	n := x.Len()
	if sv != nil { // else noop_with_empty_axes: each element its own output
		n = Numel(shape)
		ids, spread := make([]float32, n), make([]float32, x.Len())
		for i := range ids {
			ids[i] = float32(i)
		}
		if n > 1<<24 {
			return nil, fmt.Errorf("%w: ReduceProd to more than 2²⁴ outputs", ErrUnsupported)
		}
		sv.plan.spread(spread, ids)
		for i, v := range spread {
			group[i] = int(v)
		}
	} else {
		for i := range group {
			group[i] = i
		}
	}
	y := NewFloat(append([]int(nil), shape...)...)
	for i := range y.Data {
		y.Data[i] = 1
	}
	for i, v := range x.Data {
		y.Data[group[i]] *= v
	}
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
