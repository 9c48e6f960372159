package ops

import (
	"fmt"
	"math"
)

// LRN-13 only widened the types.
func init() { register("LRN", 1, newLRN) }

// lrn is local response normalisation across channels:
// y = x·d^−β with d = bias + α/size·Σ x² over the size channels around.
type lrn struct {
	alpha, beta, bias float32
	size              int
}

func newLRN(n *Node) (Op, error) {
	l := &lrn{}
	var err error
	if l.alpha, err = n.Float("alpha", 1e-4); err != nil {
		return nil, err
	}
	if l.beta, err = n.Float("beta", 0.75); err != nil {
		return nil, err
	}
	if l.bias, err = n.Float("bias", 1); err != nil {
		return nil, err
	}
	size, err := n.Int("size", 0)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, fmt.Errorf("LRN needs a positive size attribute, got %d", size)
	}
	l.size = int(size)
	return l, nil
}

// window returns the channels [lo, hi) summed for channel c of cs.
func (l *lrn) window(c, cs int) (lo, hi int) {
	return max(0, c-(l.size-1)/2), min(cs, c+l.size/2+1)
}

func (l *lrn) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	if x.Rank() < 2 {
		return nil, fmt.Errorf("input %v has no channel axis", x)
	}
	n, cs, hw := x.Shape[0], x.Shape[1], Numel(x.Shape[2:])
	d := like(x) // bias + α/size·Σx²
	k := l.alpha / float32(l.size)
	for i := 0; i < n; i++ {
		img, dimg := x.Data[i*cs*hw:(i+1)*cs*hw], d.Data[i*cs*hw:(i+1)*cs*hw]
		for c := 0; c < cs; c++ {
			dst := dimg[c*hw : (c+1)*hw]
			lo, hi := l.window(c, cs)
			for j := lo; j < hi; j++ {
				for q, v := range img[j*hw : (j+1)*hw] {
					dst[q] += v * v
				}
			}
			for q, v := range dst {
				dst[q] = l.bias + k*v
			}
		}
	}
	y, pw := like(x), like(x) // pw = d^−β
	for q, v := range x.Data {
		pw.Data[q] = float32(math.Pow(float64(d.Data[q]), -float64(l.beta)))
		y.Data[q] = v * pw.Data[q]
	}
	s.Save(x, d, pw)
	return []*Tensor{y}, nil
}

// Backward: dx_i = dy_i·d_i^−β − 2αβ/size·x_i·Σ_{c: i in window(c)} dy_c·x_c·d_c^−β−1.
func (l *lrn) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	x, d, pw := s.Saved(0), s.Saved(1), s.Saved(2)
	n, cs, hw := x.Shape[0], x.Shape[1], Numel(x.Shape[2:])
	t := like(x)
	for q, g := range dy[0].Data {
		t.Data[q] = g * x.Data[q] * pw.Data[q] / d.Data[q]
	}
	dx := like(x)
	k := 2 * l.alpha * l.beta / float32(l.size)
	for i := 0; i < n; i++ {
		off := i * cs * hw
		for c := 0; c < cs; c++ {
			dst := dx.Data[off+c*hw : off+(c+1)*hw]
			// Channel c is in the windows of channels [c−size/2, c+(size−1)/2].
			for j := max(0, c-l.size/2); j < min(cs, c+(l.size-1)/2+1); j++ {
				for q, v := range t.Data[off+j*hw : off+(j+1)*hw] {
					dst[q] += v
				}
			}
			base := off + c*hw
			xs, g, ps := x.Data[base:base+hw], dy[0].Data[base:base+hw], pw.Data[base:base+hw]
			for q, v := range xs {
				dst[q] = g[q]*ps[q] - k*v*dst[q]
			}
		}
	}
	return []*Tensor{dx}, nil
}
