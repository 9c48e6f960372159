package kernel

import (
	"math"
	"math/bits"
)

// checked is an implementation of the kernels behind the checks of their
// arguments that the exported functions make: slices long enough, no
// work for empty ones, offsets within their slices. The exported
// functions are native's (kernels.go); the tests take each implementation.
type checked struct{ k impl }

func (c checked) Run(s Shape, t *Tile) { c.k.run(s, t) }

func (c checked) RunGrad(t *GradTile) { c.k.runGrad(t) }

func (c checked) Max2x2(dst, src []float32, planes, h, w, oh, ow int) {
	if planes > 0 && oh > 0 && ow > 0 {
		_, _ = dst[planes*oh*ow-1], src[(planes-1)*h*w+(2*oh-1)*w+2*ow-1]
		c.k.max2x2(dst, src, planes, h, w, oh, ow)
	}
}

func (c checked) MaxArg2x2(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int) {
	if planes > 0 && oh > 0 && ow > 0 {
		_, _, _ = dst[planes*oh*ow-1], arg[planes*oh*ow-1], src[(planes-1)*h*w+(2*oh-1)*w+2*ow-1]
		c.k.maxArg2x2(dst, arg, src, planes, h, w, oh, ow)
	}
}

func (c checked) CompactRows(dst, src []float32, rows, n, stride int) {
	if rows > 0 && n > 0 {
		_, _ = dst[rows*n-1], src[(rows-1)*stride+n-1]
		c.k.compactRows(dst, src, rows, n, stride)
	}
}

func (c checked) Sum(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return c.k.sum(x)
}

func (c checked) Unpool2x2(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool) {
	if planes <= 0 || oh <= 0 || ow <= 0 {
		return
	}
	n := planes * oh * ow
	_, _, _ = dy[n-1], pv[n-1], arg[n-1]
	_ = dst[(planes-1)*plane+(2*oh-1)*row+2*ow-1]
	c.k.unpool2x2(dst, dy, pv, arg, planes, oh, ow, rs, row, plane, relu)
}

func (c checked) SumWhere(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	_ = y[len(x)-1]
	return c.k.sumWhere(x, y)
}

func (c checked) AxpyTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	if checkTerms(c.k, d, s, g, doff, soff, dstep, sstep) {
		c.k.axpyTerms(d, s, g, doff, soff, dstep, sstep)
	}
}

func (c checked) AxpyRuns(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	if checkTerms(c.k, d, s, g, doff, soff, dstep, sstep) {
		c.k.axpyRuns(d, s, g, doff, soff, dstep, sstep)
	}
}

// checkTerms checks AxpyTerms' arguments, panicking where an offset pair
// lies outside d or s, and reports whether there is any work.
func checkTerms(k impl, d, s, g []float32, doff, soff []int32, dstep, sstep []int64) bool {
	n, t := len(g), len(dstep)
	if n == 0 || t == 0 {
		return false
	}
	_, _ = doff[n-1], soff[n-1]
	_ = sstep[t-1]
	dlim, dok := limit(len(d), dstep)
	slim, sok := limit(len(s), sstep)
	if !sok || !dok || k.checkOffsets(doff[:n], soff[:n], dlim, slim) {
		panic("kernel: AxpyTerms offsets outside their slices")
	}
	return true
}

// limit returns the largest entry offset that keeps every step's 16
// floats within n floats, and false where there is none or a step is
// negative or not whole floats.
func limit(n int, steps []int64) (uint32, bool) {
	hi := int64(0)
	for _, s := range steps {
		if s < 0 || s%4 != 0 {
			return 0, false
		}
		hi = max(hi, s)
	}
	lim := 4*int64(n) - 64 - hi
	if lim < 0 {
		return 0, false
	}
	return uint32(min(lim, math.MaxInt32)), true
}

func (c checked) PoolEntries(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
	planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int {
	n := planes * poh * pow
	if n <= 0 {
		return 0
	}
	_, _, _ = dp[n-1], pv[n-1], arg[n-1]
	_, _, _ = gs[n+15], goff[n+15], woff[n+15]
	return c.k.poolEntries(gs, goff, woff, dp, pv, arg, planes, poh, pow, rs, wg, pix, rowBytes, relu)
}

func (c checked) GatherRows(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16) {
	if rows <= 0 || n <= 0 {
		return
	}
	if dRow < 0 || sRow < 0 || dStep < 0 || sStep < 0 || lStride < 0 || lStride > math.MaxInt32/64 {
		panic("kernel: GatherRows stride out of range")
	}
	hl := func(m uint16) int { return bits.Len16(m) - 1 }
	dmax, smax := (n-1)*dStep+hl(last), (n-1)*sStep+hl(last)*lStride
	if n > 1 {
		dmax, smax = max(dmax, (n-2)*dStep+hl(mask)), max(smax, (n-2)*sStep+hl(mask)*lStride)
	}
	if (rows-1)*dRow+dmax >= len(dst) || (rows-1)*sRow+smax >= len(src) {
		panic("kernel: GatherRows reaches outside its slices")
	}
	c.k.gatherRows(dst, src, rows, n, dRow, sRow, dStep, sStep, lStride, mask, last)
}
