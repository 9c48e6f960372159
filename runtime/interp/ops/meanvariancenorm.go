package ops

import (
	"fmt"
	"math"
)

// MeanVarianceNormalization: opset 13 added types only.
func init() { register("MeanVarianceNormalization", 9, newMVN) }

// mvn normalises x to zero mean and unit variance over axes (default 0, 2
// and 3: per channel over the batch and the image), with ONNX's epsilon of
// 1e-9 under the square root. The backward pass is LayerNormalization's
// without the scale: dx = r·(g − mean g − x̂·mean(g·x̂)) over each group.
type mvn struct{ axes []int64 }

func newMVN(n *Node) (Op, error) {
	axes, err := n.Ints("axes", []int64{0, 2, 3})
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return nil, fmt.Errorf("MeanVarianceNormalization: axes is empty")
	}
	return &mvn{axes: axes}, nil
}

type mvnSaved struct {
	plan  reducePlan
	y, r  *Tensor // output and 1/σ spread to x's shape
	count float32
}

func (o *mvn) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	reduced, err := reducedAxes(o.axes, x.Rank())
	if err != nil {
		return nil, err
	}
	p := newReducePlan(x.Shape, reduced)
	groups := Numel(p.kept)
	count := float32(x.Len()) / float32(max(groups, 1))
	mean, variance := make([]float32, groups), make([]float32, groups)
	p.sum(mean, x.Data, false)
	for i := range mean {
		mean[i] /= count
	}
	y, r := like(x), like(x)
	p.spread(y.Data, mean)
	for i, v := range x.Data {
		y.Data[i] = v - y.Data[i]
	}
	p.sum(variance, y.Data, true)
	for i, v := range variance {
		variance[i] = float32(1 / math.Sqrt(float64(v/count)+1e-9))
	}
	p.spread(r.Data, variance)
	for i := range y.Data {
		y.Data[i] *= r.Data[i]
	}
	s.Save(y) // pinned: the aux below reads it
	s.SetAux(mvnSaved{plan: p, y: y, r: r, count: count})
	return []*Tensor{y}, nil
}

func (o *mvn) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(mvnSaved)
	if !ok {
		return nil, fmt.Errorf("MeanVarianceNormalization: backward without a forward pass")
	}
	g := dy[0]
	groups := Numel(a.plan.kept)
	sg, sgy := make([]float32, groups), make([]float32, groups)
	gy := like(g)
	for i, v := range g.Data {
		gy.Data[i] = v * a.y.Data[i]
	}
	a.plan.sum(sg, g.Data, false)
	a.plan.sum(sgy, gy.Data, false)
	for i := range sg {
		sg[i] /= a.count
		sgy[i] /= a.count
	}
	mg, mgy := like(g), like(g)
	a.plan.spread(mg.Data, sg)
	a.plan.spread(mgy.Data, sgy)
	dx := like(g)
	for i, v := range g.Data {
		dx.Data[i] = a.r.Data[i] * (v - mg.Data[i] - a.y.Data[i]*mgy.Data[i])
	}
	return []*Tensor{dx}, nil
}
