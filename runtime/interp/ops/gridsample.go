package ops

import (
	"fmt"
	"math"
)

// GridSample: opset 16 for 4-D input; opset 20 renamed the modes
// (linear, cubic) and allowed N-D input, of which 4-D is implemented.
func init() {
	register("GridSample", 16, newGridSample)
	register("GridSample", 20, newGridSample)
}

// gridSample samples X [N,C,H,W] at the points of grid [N,Ho,Wo,2], whose
// (x, y) pairs run from −1 to 1 across the image, giving [N,C,Ho,Wo]. It
// follows PyTorch's grid_sample, from which ONNX's node tests come: with
// bilinear and nearest, border and reflection padding move the point into
// the image first (nearest then rounds half to even); with bicubic
// (A = −0.75), each of the 16 taps is padded on its own. Zeros padding
// reads 0 outside.
//
// Gradients: X gets each output gradient spread over the taps with their
// weights; grid gets the derivative of the interpolation in the point,
// through the padding (0 where a point was clamped to the border), and 0
// for nearest, which is piecewise constant.
type gridSample struct {
	mode, pad string
	align     bool
}

func newGridSample(n *Node) (Op, error) {
	o := &gridSample{}
	var err error
	if o.mode, err = n.Str("mode", "bilinear"); err != nil {
		return nil, err
	}
	if o.pad, err = n.Str("padding_mode", "zeros"); err != nil {
		return nil, err
	}
	align, err := n.Int("align_corners", 0)
	if err != nil {
		return nil, err
	}
	if n.Opset >= 20 {
		// The defaults and names of opset 20: linear and cubic.
		if !n.Has("mode") {
			o.mode = "linear"
		}
		switch o.mode {
		case "linear":
			o.mode = "bilinear"
		case "cubic":
			o.mode = "bicubic"
		case "bilinear", "bicubic":
			return nil, fmt.Errorf("GridSample: mode %q is opset 16's name; opset 20 says linear or cubic", o.mode)
		}
	}
	switch {
	case o.mode != "bilinear" && o.mode != "nearest" && o.mode != "bicubic":
		return nil, fmt.Errorf("GridSample: mode %q, want bilinear, nearest or bicubic", o.mode)
	case o.pad != "zeros" && o.pad != "border" && o.pad != "reflection":
		return nil, fmt.Errorf("GridSample: padding_mode %q, want zeros, border or reflection", o.pad)
	case align != 0 && align != 1:
		return nil, fmt.Errorf("GridSample: align_corners %d, want 0 or 1", align)
	}
	o.align = align == 1
	return o, nil
}

// tap is one input index along an axis with its weight and the weight's
// derivative in the (normalised) grid coordinate; index −1 reads 0.
type tap struct {
	i     int
	w, dw float64
}

// taps returns the taps along an axis of the given size for normalised
// coordinate g.
func (o *gridSample) taps(dst []tap, g float64, size int) []tap {
	dst = dst[:0]
	s := float64(size)
	// Unnormalise: pixel centres (align_corners 0) or corner pixels at ±1.
	x, dx := ((g+1)*s-1)/2, s/2
	if o.align {
		x, dx = (g+1)/2*(s-1), (s-1)/2
	}
	if o.mode == "bicubic" {
		x0 := math.Floor(x)
		for k := -1; k <= 2; k++ {
			t := x - (x0 + float64(k))
			w, dw := cubicWeight(t)
			dst = append(dst, tap{i: o.padIndex(x0+float64(k), size), w: w, dw: dw * dx})
		}
		return dst
	}
	x, d := o.padCoord(x, size)
	dx *= d
	if o.mode == "nearest" {
		return append(dst, tap{i: inside(math.RoundToEven(x), size), w: 1})
	}
	x0 := math.Floor(x)
	f := x - x0
	return append(dst, tap{i: inside(x0, size), w: 1 - f, dw: -dx}, tap{i: inside(x0+1, size), w: f, dw: dx})
}

// inside returns x as an index, or −1 outside [0, size).
func inside(x float64, size int) int {
	if x >= 0 && x < float64(size) {
		return int(x)
	}
	return -1
}

// padCoord moves a pixel coordinate into the image as the padding mode
// says, returning it and its derivative in the original coordinate.
func (o *gridSample) padCoord(x float64, size int) (float64, float64) {
	hi := float64(size - 1)
	d := 1.0
	switch o.pad {
	case "border":
	case "reflection":
		lo, span := -0.5, float64(size)
		if o.align {
			lo, span = 0, hi
		}
		if span <= 0 {
			return 0, 0
		}
		v := x - lo
		if v < 0 {
			v, d = -v, -d
		}
		flips := math.Floor(v / span)
		extra := math.Mod(v, span)
		if math.Mod(flips, 2) == 0 {
			x = lo + extra
		} else {
			x, d = lo+span-extra, -d
		}
	default:
		return x, d
	}
	if !(x > 0) { // NaN too
		return 0, 0
	}
	if x > hi {
		return hi, 0
	}
	return x, d
}

// padIndex returns the index bicubic tap x reads: clamped (border),
// reflected (reflection), or −1 outside (zeros).
func (o *gridSample) padIndex(x float64, size int) int {
	if o.pad != "zeros" {
		x, _ = o.padCoord(x, size)
	}
	return inside(x, size)
}

// cubicWeight is the cubic convolution kernel (A = −0.75) at distance t
// and its derivative.
func cubicWeight(t float64) (w, dw float64) {
	const a = -0.75
	sign := 1.0
	if t < 0 {
		t, sign = -t, -1
	}
	switch {
	case t <= 1:
		return ((a+2)*t-(a+3))*t*t + 1, sign * (3*(a+2)*t*t - 2*(a+3)*t)
	case t < 2:
		return ((a*t-5*a)*t+8*a)*t - 4*a, sign * (3*a*t*t - 10*a*t + 8*a)
	}
	return 0, 0
}

// gridGeom is what Backward needs of a run.
type gridGeom struct{ n, c, h, w, ho, wo int }

func (o *gridSample) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	grid, err := floatIn(in, 1, "grid")
	if err != nil {
		return nil, err
	}
	if x.Rank() != 4 {
		return nil, fmt.Errorf("%w: GridSample of %v: only 4-D inputs (N,C,H,W) are implemented", ErrUnsupported, x)
	}
	if grid.Rank() != 4 || grid.Shape[3] != 2 || grid.Shape[0] != x.Shape[0] {
		return nil, fmt.Errorf("GridSample: grid %v, want [%d, Ho, Wo, 2]", grid, x.Shape[0])
	}
	g := gridGeom{n: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3], ho: grid.Shape[1], wo: grid.Shape[2]}
	y := NewFloat(g.n, g.c, g.ho, g.wo)
	o.walk(g, grid.Data, func(b, p int, tx, ty []tap) {
		for ch := 0; ch < g.c; ch++ {
			plane := x.Data[(b*g.c+ch)*g.h*g.w:][:g.h*g.w]
			var v float64
			for _, ry := range ty {
				for _, rx := range tx {
					if ry.i >= 0 && rx.i >= 0 {
						v += ry.w * rx.w * float64(plane[ry.i*g.w+rx.i])
					}
				}
			}
			y.Data[(b*g.c+ch)*g.ho*g.wo+p] = float32(v)
		}
	})
	s.Save(x, grid)
	s.SetAux(g)
	return []*Tensor{y}, nil
}

// walk calls f with the taps of every output point p of every sample b.
func (o *gridSample) walk(g gridGeom, grid []float32, f func(b, p int, tx, ty []tap)) {
	var tx, ty []tap
	for b := 0; b < g.n; b++ {
		for p := 0; p < g.ho*g.wo; p++ {
			pt := grid[(b*g.ho*g.wo+p)*2:]
			tx = o.taps(tx, float64(pt[0]), g.w)
			ty = o.taps(ty, float64(pt[1]), g.h)
			f(b, p, tx, ty)
		}
	}
}

func (o *gridSample) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	g, ok := s.Aux().(gridGeom)
	if !ok {
		return nil, fmt.Errorf("GridSample: backward without a forward pass")
	}
	x, grid := s.Saved(0), s.Saved(1)
	var dx, dgrid *Tensor
	if s.Needs(0) {
		dx = like(x)
	}
	if s.Needs(1) {
		dgrid = like(grid)
	}
	o.walk(g, grid.Data, func(b, p int, tx, ty []tap) {
		var gx, gy float64
		for ch := 0; ch < g.c; ch++ {
			off := (b*g.c + ch) * g.h * g.w
			d := float64(dy[0].Data[(b*g.c+ch)*g.ho*g.wo+p])
			for _, ry := range ty {
				for _, rx := range tx {
					if ry.i < 0 || rx.i < 0 {
						continue
					}
					k := off + ry.i*g.w + rx.i
					if dx != nil {
						dx.Data[k] += float32(d * ry.w * rx.w)
					}
					v := d * float64(x.Data[k])
					gx += v * ry.w * rx.dw
					gy += v * ry.dw * rx.w
				}
			}
		}
		if dgrid != nil {
			at := (b*g.ho*g.wo + p) * 2
			dgrid.Data[at], dgrid.Data[at+1] = float32(gx), float32(gy)
		}
	})
	return []*Tensor{dx, dgrid}, nil
}
