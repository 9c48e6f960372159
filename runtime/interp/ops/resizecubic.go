package ops

import "math"

// Cubic interpolation for Resize: Keys' kernel with coefficient A over four
// neighbours per axis, separable along the last two axes like linear.

// cubicTap is one output coordinate: four input neighbours, clamped to the
// axis as edge padding would, and their weights.
type cubicTap struct {
	i [4]int
	w [4]float32
}

func (r *resize) cubicTaps(in, out int, scale float64) []cubicTap {
	a := float64(r.cubicA)
	taps := make([]cubicTap, out)
	for o := range taps {
		x := r.source(o, in, out, scale)
		f := math.Floor(x)
		s := x - f
		w := [4]float64{
			((a*(s+1)-5*a)*(s+1)+8*a)*(s+1) - 4*a,
			((a+2)*s-(a+3))*s*s + 1,
			((a+2)*(1-s)-(a+3))*(1-s)*(1-s) + 1,
			((a*(2-s)-5*a)*(2-s)+8*a)*(2-s) - 4*a,
		}
		var sum float64
		t := &taps[o]
		for k := range w {
			i := int(f) - 1 + k
			if r.excludeOutside && (i < 0 || i >= in) {
				w[k] = 0
			}
			sum += w[k]
			t.i[k] = min(max(i, 0), in-1)
		}
		for k := range w {
			if r.excludeOutside && sum != 0 {
				w[k] /= sum
			}
			t.w[k] = float32(w[k])
		}
	}
	return taps
}

// cubicForward interpolates planes of h×w (src) to oh×ow (dst, zeroed).
func cubicForward(dst, src []float32, h, w int, ys, xs []cubicTap) {
	oh, ow := len(ys), len(xs)
	for p := 0; p < len(dst)/max(oh*ow, 1); p++ {
		plane, out := src[p*h*w:][:h*w], dst[p*oh*ow:][:oh*ow]
		for oy, ty := range ys {
			row := out[oy*ow:][:ow]
			for k, wy := range ty.w {
				if wy == 0 {
					continue
				}
				r := plane[ty.i[k]*w:][:w]
				for ox, tx := range xs {
					row[ox] += wy * (tx.w[0]*r[tx.i[0]] + tx.w[1]*r[tx.i[1]] + tx.w[2]*r[tx.i[2]] + tx.w[3]*r[tx.i[3]])
				}
			}
		}
	}
}

// cubicBackward is the adjoint of cubicForward: dx (zeroed) += the output
// gradient g spread back with the same weights.
func cubicBackward(dx, g []float32, h, w int, ys, xs []cubicTap) {
	oh, ow := len(ys), len(xs)
	for p := 0; p < len(dx)/max(h*w, 1); p++ {
		plane, gp := dx[p*h*w:][:h*w], g[p*oh*ow:][:oh*ow]
		for oy, ty := range ys {
			grow := gp[oy*ow:][:ow]
			for k, wy := range ty.w {
				if wy == 0 {
					continue
				}
				r := plane[ty.i[k]*w:][:w]
				for ox, tx := range xs {
					v := wy * grow[ox]
					r[tx.i[0]] += v * tx.w[0]
					r[tx.i[1]] += v * tx.w[1]
					r[tx.i[2]] += v * tx.w[2]
					r[tx.i[3]] += v * tx.w[3]
				}
			}
		}
	}
}
