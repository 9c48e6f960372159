package ops

import (
	"fmt"
	"math"
)

func init() {
	register("ReduceLogSumExp", 1, newReduceLogSumExp(false))
	register("ReduceLogSumExp", 18, newReduceLogSumExp(true)) // axes became an optional input
}

// reduceLogSumExp is log Σ eˣ over the axes, shifted by each output's
// maximum m so that large values neither overflow nor lose their value:
// m + log Σ e^(x−m). Its gradient is dy times the softmax of x over the
// reduced axes. ReduceMax (with the axes kept) finds m and ReduceSum sums,
// both reduction.go's, so the attributes mean what they mean there.
type reduceLogSumExp struct{ max, sum *reduction }

func newReduceLogSumExp(axesInput bool) constructor {
	return func(n *Node) (Op, error) {
		r, err := newReduction(reduceSum, axesInput)(n)
		if err != nil {
			return nil, err
		}
		sum := r.(*reduction)
		m := *sum
		m.kind, m.keepdims = reduceMax, true
		return &reduceLogSumExp{max: &m, sum: sum}, nil
	}
}

type logSumExpSaved struct {
	x, shift, sum *Tensor // shift: m broadcast to x's shape
	inner         *State
}

func (o *reduceLogSumExp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "data")
	if err != nil {
		return nil, err
	}
	rest := in[1:]
	ms, err := o.max.Forward(&State{}, append([]*Tensor{x}, rest...))
	if err != nil {
		return nil, err
	}
	m := ms[0]
	idx := broadcastIndex(x.Shape, m.Shape)
	e, shift := like(x), like(x)
	for i, v := range x.Data {
		mv := m.Data[srcAt(idx, i)]
		if math.IsInf(float64(mv), 0) {
			mv = 0 // all −∞ (or +∞ present): no shift
		}
		shift.Data[i] = mv
		e.Data[i] = float32(math.Exp(float64(v - mv)))
	}
	inner := &State{Grad: s.Grad, Buffers: s.Buffers}
	outs, err := o.sum.Forward(inner, append([]*Tensor{e}, rest...))
	if err != nil {
		return nil, err
	}
	sum := outs[0]
	if sum.Len() != m.Len() {
		return nil, fmt.Errorf("ReduceLogSumExp: %d sums for %d maxima", sum.Len(), m.Len())
	}
	y := like(sum)
	for i, v := range sum.Data {
		mv := m.Data[i]
		if math.IsInf(float64(mv), 0) {
			mv = 0
		}
		y.Data[i] = mv + float32(math.Log(float64(v)))
	}
	s.Save(x) // pinned: the aux below reads it
	s.SetAux(logSumExpSaved{x: x, shift: shift, sum: sum, inner: inner})
	return []*Tensor{y}, nil
}

func (o *reduceLogSumExp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(logSumExpSaved)
	if !ok {
		return nil, fmt.Errorf("ReduceLogSumExp: backward without a forward pass")
	}
	g := like(dy[0])
	for i, v := range dy[0].Data {
		g.Data[i] = v / a.sum.Data[i]
	}
	d, err := o.sum.Backward(a.inner, []*Tensor{g})
	if err != nil {
		return nil, err
	}
	dx := like(a.x)
	for i, v := range d[0].Data {
		dx.Data[i] = v * float32(math.Exp(float64(a.x.Data[i]-a.shift.Data[i])))
	}
	return []*Tensor{dx, nil}, nil
}
