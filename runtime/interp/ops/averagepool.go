package ops

import "fmt"

// AveragePool's later versions add count_include_pad (7), ceil_mode (10)
// and dilations (19) with defaults that keep the earlier behaviour, so one
// registration serves them all.
func init() { register("AveragePool", 1, newAveragePool) }

// averagePool divides each window's sum by the taps inside the input, or
// with count_include_pad by the taps inside the padded input; a ceil_mode
// window hanging past the end padding counts only what it covers, as ONNX
// Runtime does.
type averagePool struct {
	pooling
	includePad bool
}

type averagePoolSaved struct {
	g  poolGeom
	xs []int
}

func newAveragePool(n *Node) (Op, error) {
	p, err := parsePooling(n)
	if err != nil {
		return nil, err
	}
	inc, err := n.Int("count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	return &averagePool{pooling: p, includePad: inc != 0}, nil
}

// divisor is the count a window's sum is divided by; 0 for an empty window.
func (a *averagePool) divisor(r, c tapSpan) float32 {
	if a.includePad {
		return float32(r.padded * c.padded)
	}
	return float32((r.hi - r.lo) * (c.hi - c.lo))
}

func (a *averagePool) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	g, err := a.geometry(x.Shape)
	if err != nil {
		return nil, err
	}
	if err := s.fits(g.outShape(x.Shape)...); err != nil {
		return nil, err
	}
	y := NewFloat(g.outShape(x.Shape)...)
	hw, ohw := g.h*g.w, g.oh*g.ow
	rows, cols := g.spans()
	for p := 0; p < g.planes; p++ {
		src, dst := x.Data[p*hw:(p+1)*hw], y.Data[p*ohw:(p+1)*ohw]
		for oy, r := range rows {
			iy0 := oy*g.sh - g.ph
			out := dst[oy*g.ow:][:g.ow]
			for ox, c := range cols {
				ix0 := ox*g.sw - g.pw
				var sum float32
				for ki := r.lo; ki < r.hi; ki++ {
					base := (iy0+ki*g.dh)*g.w + ix0
					for kj := c.lo; kj < c.hi; kj++ {
						sum += src[base+kj*g.dw]
					}
				}
				if n := a.divisor(r, c); n > 0 {
					out[ox] = sum / n
				}
			}
		}
	}
	s.SetAux(averagePoolSaved{g: g, xs: x.Shape})
	return []*Tensor{y}, nil
}

func (a *averagePool) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	sv, ok := s.Aux().(averagePoolSaved)
	if !ok {
		return nil, fmt.Errorf("AveragePool: backward without a forward pass")
	}
	g := sv.g
	dx := NewFloat(append([]int(nil), sv.xs...)...)
	hw, ohw := g.h*g.w, g.oh*g.ow
	rows, cols := g.spans()
	for p := 0; p < g.planes; p++ {
		d, gy := dx.Data[p*hw:(p+1)*hw], dy[0].Data[p*ohw:(p+1)*ohw]
		for oy, r := range rows {
			iy0 := oy*g.sh - g.ph
			row := gy[oy*g.ow:][:g.ow]
			for ox, c := range cols {
				n := a.divisor(r, c)
				if n == 0 {
					continue
				}
				v := row[ox] / n
				ix0 := ox*g.sw - g.pw
				for ki := r.lo; ki < r.hi; ki++ {
					base := (iy0+ki*g.dh)*g.w + ix0
					for kj := c.lo; kj < c.hi; kj++ {
						d[base+kj*g.dw] += v
					}
				}
			}
		}
	}
	return []*Tensor{dx}, nil
}
