package ops

import (
	"fmt"
	"math"
	"slices"
)

// LayerNormalization arrived in opset 17 (transformer exporters' default).
func init() { register("LayerNormalization", 17, newLayerNorm) }

// layerNorm normalises each row of X (the axes from axis on) by its own
// mean and biased variance, then scales and shifts by Scale and B, which
// broadcast to the normalised axes. Its optional outputs Mean and
// InvStdDev have X's leading axes and ones after.
type layerNorm struct {
	axis int64
	eps  float32
}

// layerNormRows is the layout a run worked on, kept for Backward.
type layerNormRows struct {
	rows, n int
	sidx    []int32 // Scale's index per row position; nil when Scale fills the row
	bshape  []int   // B's shape (nil without B)
	bidx    []int32
}

func newLayerNorm(n *Node) (Op, error) {
	axis, err := n.Int("axis", -1)
	if err != nil {
		return nil, err
	}
	eps, err := n.Float("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		return nil, fmt.Errorf("LayerNormalization: epsilon %g must be finite and ≥ 0", eps)
	}
	// The mean and variance are accumulated in float64 whatever
	// stash_type says, which meets the precision of every allowed type.
	stash, err := n.Int("stash_type", 1)
	if err != nil {
		return nil, err
	}
	switch stash {
	case 1, 10, 11, 16: // float, float16, double, bfloat16
	default:
		return nil, fmt.Errorf("LayerNormalization: stash_type %d is not a floating-point type (1, 10, 11 or 16)", stash)
	}
	return &layerNorm{axis: axis, eps: eps}, nil
}

// broadcastTo checks that t broadcasts one way onto shape and returns its
// index map (nil when t has shape).
func broadcastTo(t *Tensor, shape []int, what string) ([]int32, error) {
	b, err := broadcastShape(shape, t.Shape)
	if err != nil || !slices.Equal(b, shape) {
		return nil, fmt.Errorf("%s %v does not broadcast to the normalised axes %s", what, t, ShapeString(shape))
	}
	return broadcastIndex(shape, t.Shape), nil
}

func (o *layerNorm) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	scale, err := floatIn(in, 1, "Scale")
	if err != nil {
		return nil, err
	}
	a, err := normAxis(o.axis, x.Rank())
	if err != nil {
		return nil, err
	}
	r := layerNormRows{rows: Numel(x.Shape[:a]), n: Numel(x.Shape[a:])}
	if r.sidx, err = broadcastTo(scale, x.Shape[a:], "Scale"); err != nil {
		return nil, err
	}
	var bias *Tensor
	if len(in) > 2 && in[2] != nil {
		if bias, err = floatIn(in, 2, "B"); err != nil {
			return nil, err
		}
		if r.bidx, err = broadcastTo(bias, x.Shape[a:], "B"); err != nil {
			return nil, err
		}
		r.bshape = bias.Shape
	}
	statShape := append(slices.Clone(x.Shape[:a]), make([]int, x.Rank()-a)...)
	for i := a; i < x.Rank(); i++ {
		statShape[i] = 1
	}
	y, mean, inv := like(x), NewFloat(statShape...), NewFloat(slices.Clone(statShape)...)
	forChunks(r.rows, r.n, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			src, dst := x.Data[row*r.n:(row+1)*r.n], y.Data[row*r.n:(row+1)*r.n]
			var sum float64
			for _, v := range src {
				sum += float64(v)
			}
			mu := sum / float64(r.n)
			var sq float64
			for _, v := range src {
				d := float64(v) - mu
				sq += d * d
			}
			is := 1 / math.Sqrt(sq/float64(r.n)+float64(o.eps))
			mean.Data[row], inv.Data[row] = float32(mu), float32(is)
			for j, v := range src {
				h := float32((float64(v) - mu) * is)
				dst[j] = h * scale.Data[srcAt(r.sidx, j)]
				if bias != nil {
					dst[j] += bias.Data[srcAt(r.bidx, j)]
				}
			}
		}
	})
	s.Save(x, scale, mean, inv)
	s.SetAux(r)
	return []*Tensor{y, mean, inv}, nil
}

// Backward: with x̂ = (x−μ)·r and g = dY·Scale,
// dX = r·(g − mean(g) − x̂·mean(g·x̂)) + dMean/n − dInvStdDev·r²·x̂/n,
// dScale = Σ dY·x̂ and dB = Σ dY over the rows, summed where they broadcast.
func (o *layerNorm) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	r, ok := s.Aux().(layerNormRows)
	if !ok {
		return nil, fmt.Errorf("LayerNormalization: backward without a forward pass")
	}
	x, scale, mean, inv := s.Saved(0), s.Saved(1), s.Saved(2), s.Saved(3)
	grad := func(i int) []float32 {
		if i < len(dy) && dy[i] != nil {
			return dy[i].Data
		}
		return nil
	}
	gy, gm, gr := grad(0), grad(1), grad(2)
	var dx *Tensor
	if s.Needs(0) {
		dx = like(x)
	}
	dS, dB := make([]float64, scale.Len()), make([]float64, Numel(r.bshape))
	wantS, wantB := s.Needs(1) && gy != nil, s.Needs(2) && gy != nil && r.bshape != nil
	n := float64(r.n)
	for row := 0; row < r.rows; row++ {
		src := x.Data[row*r.n : (row+1)*r.n]
		mu, is := float64(mean.Data[row]), float64(inv.Data[row])
		var sg, sgh float64 // Σ g and Σ g·x̂
		if gy != nil {
			g := gy[row*r.n : (row+1)*r.n]
			for j, v := range src {
				h := (float64(v) - mu) * is
				gj := float64(g[j]) * float64(scale.Data[srcAt(r.sidx, j)])
				sg += gj
				sgh += gj * h
				if wantS {
					dS[srcAt(r.sidx, j)] += float64(g[j]) * h
				}
				if wantB {
					dB[srcAt(r.bidx, j)] += float64(g[j])
				}
			}
		}
		if dx == nil {
			continue
		}
		var shift, slope float64 // dX = is·(g + shift) + slope·x̂
		shift = -sg / n
		slope = -is * sgh / n
		if gm != nil {
			shift += float64(gm[row]) / n / is
		}
		if gr != nil {
			slope -= float64(gr[row]) * is * is / n
		}
		dst := dx.Data[row*r.n : (row+1)*r.n]
		for j, v := range src {
			h := (float64(v) - mu) * is
			var gj float64
			if gy != nil {
				gj = float64(gy[row*r.n+j]) * float64(scale.Data[srcAt(r.sidx, j)])
			}
			dst[j] = float32(is*(gj+shift) + slope*h)
		}
	}
	grads := []*Tensor{dx, nil, nil}
	if wantS {
		grads[1] = fromFloat64(scale.Shape, dS)
	}
	if wantB {
		grads[2] = fromFloat64(r.bshape, dB)
	}
	return grads, nil
}
