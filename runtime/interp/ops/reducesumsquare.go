package ops

import "fmt"

func init() {
	register("ReduceSumSquare", 1, newMappedSum(squareMap, false))
	register("ReduceSumSquare", 18, newMappedSum(squareMap, true)) // axes became an optional input
}

// mappedSum is a ReduceSum of f(x) followed by g of the sums: ReduceL1
// (|x|), ReduceSumSquare (x²) and ReduceLogSum (log of the sum). It runs
// ReduceSum itself (reduction.go) with the node's axes and keepdims, so
// those and noop_with_empty_axes mean what they mean there.
type mappedSum struct {
	m   sumMap
	sum *reduction
}

// sumMap is what a mappedSum applies: f before summing and its
// derivative, g after and its derivative in terms of the sum.
type sumMap struct {
	f, df func(x float32) float32
	g, dg func(sum float32) float32
}

var squareMap = sumMap{
	f:  func(x float32) float32 { return x * x },
	df: func(x float32) float32 { return 2 * x },
}

func newMappedSum(m sumMap, axesInput bool) constructor {
	return func(n *Node) (Op, error) {
		r, err := newReduction(reduceSum, axesInput)(n)
		if err != nil {
			return nil, err
		}
		return &mappedSum{m: m, sum: r.(*reduction)}, nil
	}
}

type mappedSumSaved struct {
	x, sum *Tensor
	inner  *State
}

func (o *mappedSum) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "data")
	if err != nil {
		return nil, err
	}
	fx := x
	if o.m.f != nil {
		fx = like(x)
		for i, v := range x.Data {
			fx.Data[i] = o.m.f(v)
		}
	}
	inner := &State{Grad: s.Grad, Buffers: s.Buffers}
	outs, err := o.sum.Forward(inner, append([]*Tensor{fx}, in[1:]...))
	if err != nil {
		return nil, err
	}
	sum := outs[0]
	y := sum
	if o.m.g != nil {
		y = like(sum)
		for i, v := range sum.Data {
			y.Data[i] = o.m.g(v)
		}
	}
	s.Save(x) // pinned: the aux below reads it
	s.SetAux(mappedSumSaved{x: x, sum: sum, inner: inner})
	return []*Tensor{y}, nil
}

func (o *mappedSum) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(mappedSumSaved)
	if !ok {
		return nil, fmt.Errorf("backward without a forward pass")
	}
	g := dy[0]
	if o.m.dg != nil {
		g = like(dy[0])
		for i, v := range dy[0].Data {
			g.Data[i] = v * o.m.dg(a.sum.Data[i])
		}
	}
	d, err := o.sum.Backward(a.inner, []*Tensor{g})
	if err != nil {
		return nil, err
	}
	dx := d[0]
	if o.m.df != nil {
		dx = like(a.x)
		for i, v := range d[0].Data {
			dx.Data[i] = v * o.m.df(a.x.Data[i])
		}
	}
	return []*Tensor{dx, nil}, nil
}
