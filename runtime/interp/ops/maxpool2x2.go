package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// The common 2×2 MaxPool window with stride 2 and no padding, whose
// windows do not overlap: unrolled loops (halves), or the vector kernels
// where the CPU has them (vectorHalves, the same AVX-512F as the direct
// convolution).
type halves struct{}

func (halves) floats(y []float32, arg []int32, x []float32, g poolGeom) { halvesMax(y, arg, x, g) }
func (halves) ints(y []int64, arg []int32, x []int64, g poolGeom)       { halvesMax(y, arg, x, g) }

type vectorHalves struct{ halves }

func (vectorHalves) floats(y []float32, arg []int32, x []float32, g poolGeom) {
	if arg == nil {
		kernel.Max2x2(y, x, g.planes, g.h, g.w, g.oh, g.ow)
	} else {
		kernel.MaxArg2x2(y, arg, x, g.planes, g.h, g.w, g.oh, g.ow)
	}
}

// halves reports whether g is the common 2×2 window with stride 2 and no
// padding, whose windows do not overlap.
func (g poolGeom) halves() bool {
	return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 &&
		g.ph == 0 && g.pw == 0 && 2*g.oh <= g.h && 2*g.ow <= g.w
}

func halvesMax[T float32 | int64](y []T, arg []int32, x []T, g poolGeom) {
	hw, ohw := g.h*g.w, g.oh*g.ow
	for p := range g.planes {
		src, dst := x[p*hw:(p+1)*hw], y[p*ohw:(p+1)*ohw]
		if arg == nil { // inference: no winner to track
			max2x2(dst, src, g.w, g.oh, g.ow)
		} else {
			maxPool2x2(dst, arg[p*ohw:(p+1)*ohw], src, g.w, g.oh, g.ow)
		}
	}
}

// maxPool2x2 pools one plane for the most common window, 2×2 with stride 2
// and no padding, with the loops unrolled.
func maxPool2x2[T float32 | int64](dst []T, arg []int32, src []T, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		b0 := 2 * oy * w
		r0, r1 := src[b0:][:2*ow], src[b0+w:][:2*ow]
		out, oa := dst[oy*ow:][:ow], arg[oy*ow:][:ow]
		for ox := range out {
			i := 2 * ox
			best, bi := r0[i], int32(b0+i)
			v := r0[i+1]
			bi += pick(v > best) * (int32(b0+i+1) - bi)
			best = max(best, v)
			v = r1[i]
			bi += pick(v > best) * (int32(b0+w+i) - bi)
			best = max(best, v)
			v = r1[i+1]
			bi += pick(v > best) * (int32(b0+w+i+1) - bi)
			out[ox], oa[ox] = max(best, v), bi
		}
	}
}

// max2x2 is maxPool2x2 without the winners, for inference.
func max2x2[T float32 | int64](dst []T, src []T, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0, r1 := src[2*oy*w:][:2*ow], src[(2*oy+1)*w:][:2*ow]
		out := dst[oy*ow:][:ow]
		for ox := range out {
			out[ox] = max(r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1])
		}
	}
}

// pick is 1 for true and 0 for false, without a branch.
func pick(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}
