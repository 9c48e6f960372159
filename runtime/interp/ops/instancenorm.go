package ops

import (
	"fmt"
	"math"
)

// Opset 6 dropped the legacy consumed_inputs attribute; nothing else changed.
func init() { register("InstanceNormalization", 1, newInstanceNorm) }

// instanceNorm normalises each (sample, channel) plane by its own mean and
// biased variance, then scales and shifts per channel.
type instanceNorm struct{ eps float32 }

type instanceNormSaved struct {
	mean, invstd []float32 // per (sample, channel)
}

func newInstanceNorm(n *Node) (Op, error) {
	eps, err := n.Float("epsilon", 1e-5)
	return &instanceNorm{eps: eps}, err
}

func (o *instanceNorm) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "input")
	if err != nil {
		return nil, err
	}
	if x.Rank() < 3 {
		return nil, fmt.Errorf("input %v needs a batch, a channel and a spatial axis", x)
	}
	c := x.Shape[1]
	for i, name := range []string{1: "scale", 2: "B"} {
		if i == 0 {
			continue
		}
		t, err := floatIn(in, i, name)
		if err != nil {
			return nil, err
		}
		if t.Len() != c {
			return nil, fmt.Errorf("%s %v does not have the input's %d channels", name, t, c)
		}
	}
	scale, bias := in[1].Data, in[2].Data
	planes, hw := x.Shape[0]*c, Numel(x.Shape[2:])
	mean, invstd := make([]float32, planes), make([]float32, planes)
	y := like(x)
	for p := 0; p < planes; p++ {
		src, dst := x.Data[p*hw:(p+1)*hw], y.Data[p*hw:(p+1)*hw]
		mu := float32(float64(sum4(src)) / float64(hw))
		v := float64(sqDev4(src, mu)) / float64(hw)
		is := float32(1 / math.Sqrt(v+float64(o.eps)))
		mean[p], invstd[p] = mu, is
		a := scale[p%c] * is
		b := bias[p%c] - mu*a
		for j, v := range src {
			dst[j] = a*v + b
		}
	}
	s.Save(x, in[1], in[2])
	s.SetAux(instanceNormSaved{mean: mean, invstd: invstd})
	return []*Tensor{y}, nil
}

func (o *instanceNorm) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(instanceNormSaved)
	if !ok {
		return nil, fmt.Errorf("InstanceNormalization: backward without a forward pass")
	}
	x, scale, bias := s.Saved(0), s.Saved(1), s.Saved(2)
	c, hw := x.Shape[1], Numel(x.Shape[2:])
	dS, dB := make([]float64, c), make([]float64, c)
	var dx *Tensor
	if s.Needs(0) {
		dx = like(x)
	}
	m := float32(hw)
	for p := range a.mean {
		gy, src := dy[0].Data[p*hw:(p+1)*hw], x.Data[p*hw:(p+1)*hw]
		mu, is := a.mean[p], a.invstd[p]
		sb, ss := sumDot4(gy, src, mu)
		ss *= is
		dB[p%c] += float64(sb)
		dS[p%c] += float64(ss)
		if dx == nil {
			continue
		}
		// dx = γσ⁻¹·(dy − Σdy/m − x̂·Σdy·x̂/m), as k·dy + q·x + r
		k := scale.Data[p%c] * is
		q := -k * is * ss / m
		r := -k*sb/m - q*mu
		dst := dx.Data[p*hw : (p+1)*hw]
		for j, v := range src {
			dst[j] = k*gy[j] + q*v + r
		}
	}
	grads := []*Tensor{dx, nil, nil}
	if s.Needs(1) {
		grads[1] = fromFloat64(scale.Shape, dS)
	}
	if s.Needs(2) {
		grads[2] = fromFloat64(bias.Shape, dB)
	}
	return grads, nil
}
