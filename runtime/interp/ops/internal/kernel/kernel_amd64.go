//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"math"
	"math/bits"

	"golang.org/x/sys/cpu"
)

// Available reports whether this CPU runs the kernel: it needs AVX-512F,
// whose 32 vector registers hold a tile's 24 accumulators and whose lane
// masks cover ragged rows.
var Available = cpu.X86.HasAVX512F

//go:noescape
func tile8x3(t *Tile)

//go:noescape
func tile4x6(t *Tile)

//go:noescape
func tile8x2(t *Tile)

//go:noescape
func tile8x1(t *Tile)

//go:noescape
func gradTile8x3(t *GradTile)

// RunGrad computes the sums of a GradTile. It must only be called where
// Available is true.
func RunGrad(t *GradTile) { gradTile8x3(t) }

//go:noescape
func tile6x4(t *Tile)

//go:noescape
func tile1x12(t *Tile)

// Run computes one tile of shape s (Tall, Tall2, Tall1, Broad, Wide or Run1). It must only be
// called where Available is true.
func Run(s Shape, t *Tile) {
	switch s {
	case Tall:
		tile8x3(t)
	case Tall2:
		tile8x2(t)
	case Tall1:
		tile8x1(t)
	case Broad:
		tile6x4(t)
	case Wide:
		tile4x6(t)
	case Run1:
		tile1x12(t)
	default:
		// A shape with no kernel would read and store whatever the
		// nearest one does: a programming error, not an input's.
		panic(fmt.Sprintf("kernel: Run of shape %v, which has no kernel", s))
	}
}

//go:noescape
func max2x2(dst, src *float32, planes, oh, ow, w, hw int)

//go:noescape
func maxArg2x2(dst *float32, arg *int32, src *float32, planes, oh, ow, w, hw int)

// Max2x2 is a 2×2, stride-2 max pool of planes of h×w floats (src) to
// planes of oh×ow (dst), 2·oh ≤ h and 2·ow ≤ w: each output is the
// maximum of its window.
func Max2x2(dst, src []float32, planes, h, w, oh, ow int) {
	if planes > 0 && oh > 0 && ow > 0 {
		_, _ = dst[planes*oh*ow-1], src[(planes-1)*h*w+(2*oh-1)*w+2*ow-1]
		max2x2(&dst[0], &src[0], planes, oh, ow, w, h*w)
	}
}

// MaxArg2x2 is Max2x2 that also writes the winner of each window to arg,
// as an offset in its plane. The first maximum in row-major order wins
// ties.
func MaxArg2x2(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int) {
	if planes > 0 && oh > 0 && ow > 0 {
		_, _, _ = dst[planes*oh*ow-1], arg[planes*oh*ow-1], src[(planes-1)*h*w+(2*oh-1)*w+2*ow-1]
		maxArg2x2(&dst[0], &arg[0], &src[0], planes, oh, ow, w, h*w)
	}
}

//go:noescape
func reluMask(dst, dy, y *float32, n int)

// ReluMask writes dst[i] = dy[i] where y[i] > 0 and 0 elsewhere: the
// gradient through a Relu whose output was y. The slices must be as long
// as dst.
func ReluMask(dst, dy, y []float32) {
	if len(dst) > 0 {
		_, _ = dy[len(dst)-1], y[len(dst)-1]
		reluMask(&dst[0], &dy[0], &y[0], len(dst))
	}
}

//go:noescape
func compactRows(dst, src *float32, rows, n, stride int)

// CompactRows copies rows rows of n floats, stride apart in src, to dst
// one after another: a wide buffer's rows without their extra columns.
func CompactRows(dst, src []float32, rows, n, stride int) {
	if rows > 0 && n > 0 {
		_, _ = dst[rows*n-1], src[(rows-1)*stride+n-1]
		compactRows(&dst[0], &src[0], rows, n, stride)
	}
}

//go:noescape
func sum(x *float32, n int) float32

// Sum returns the sum of x.
func Sum(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return sum(&x[0], len(x))
}

//go:noescape
func unpool2x2(dst, dy, pv *float32, arg *int32, planes, oh, ow, rs, row, plane, relu int)

// Unpool2x2 is the gradient through MaxArg2x2, and a Relu before it when
// relu is set: for planes planes of oh×ow windows (dy, pv the pooled
// values, arg the winners as offsets in planes of rows rs apart), each
// window's gradient goes to its winner and zero to its other inputs, and
// a window whose pooled value is not positive sends zero under relu. The
// 2·oh rows of 2·ow values are written to dst, rows row floats apart and
// planes plane apart; nothing else of dst is touched.
func Unpool2x2(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool) {
	if planes <= 0 || oh <= 0 || ow <= 0 {
		return
	}
	n := planes * oh * ow
	_, _, _ = dy[n-1], pv[n-1], arg[n-1]
	_ = dst[(planes-1)*plane+(2*oh-1)*row+2*ow-1]
	r := 0
	if relu {
		r = 1
	}
	unpool2x2(&dst[0], &dy[0], &pv[0], &arg[0], planes, oh, ow, rs, row, plane, r)
}

//go:noescape
func sumWhere(x, y *float32, n int) float32

// SumWhere returns the sum of x[i] over the i where y[i] > 0; y must be
// as long as x.
func SumWhere(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	_ = y[len(x)-1]
	return sumWhere(&x[0], &y[0], len(x))
}

//go:noescape
func checkOffsets(doff, soff *int32, n int, dlim, slim uint32) (bad bool)

//go:noescape
func axpyTerms(d, s, gs *float32, doff, soff *int32, n int, dstep, sstep *int64, t int)

//go:noescape
func axpyRuns(d, s, gs *float32, doff, soff *int32, n int, dstep, sstep *int64, t int)

// AxpyTerms adds, for each entry e of g and each term j of dstep, g[e]
// times the 16 floats of s at byte offset soff[e] + sstep[j] to the 16
// floats of d at byte offset doff[e] + dstep[j]: the scatter of a sparse
// gradient, each nonzero times a row of weights (or of an image), in 16
// lanes at a time. doff and soff must be as long as g, sstep as dstep,
// offsets must be whole floats, and every offset pair must lie within d
// and s with 16 floats to spare; it panics otherwise, having checked
// before it writes.
func AxpyTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	if checkTerms(d, s, g, doff, soff, dstep, sstep) {
		axpyTerms(&d[0], &s[0], &g[0], &doff[0], &soff[0], len(g), &dstep[0], &sstep[0], len(dstep))
	}
}

// AxpyRuns is AxpyTerms for entries whose doff come in runs of equal
// values, as a weight gradient's do (entries listed output channel by
// output channel, doff the channel's row): it sums each run in registers
// and adds the sums to d once per run, where AxpyTerms loads and stores d
// for every entry. Any doff are correct; runs make it fast. The sums run
// in another order than AxpyTerms'.
func AxpyRuns(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	if !checkTerms(d, s, g, doff, soff, dstep, sstep) {
		return
	}
	n, t := len(g), len(dstep)
	if pairs := t &^ 1; pairs > 0 {
		axpyRuns(&d[0], &s[0], &g[0], &doff[0], &soff[0], n, &dstep[0], &sstep[0], pairs)
	}
	if t%2 == 1 {
		axpyTerms(&d[0], &s[0], &g[0], &doff[0], &soff[0], n, &dstep[t-1], &sstep[t-1], 1)
	}
}

// checkTerms checks AxpyTerms' arguments, panicking where an offset pair
// lies outside d or s, and reports whether there is any work.
func checkTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) bool {
	n, t := len(g), len(dstep)
	if n == 0 || t == 0 {
		return false
	}
	_, _ = doff[n-1], soff[n-1]
	_ = sstep[t-1]
	dlim, dok := limit(len(d), dstep)
	slim, sok := limit(len(s), sstep)
	if !sok || !dok || checkOffsets(&doff[0], &soff[0], n, dlim, slim) {
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

//go:noescape
func poolEntries(gs *float32, goff, woff *int32, dp, pv *float32, arg *int32,
	planes, poh, pow, rs, wg, pix, rowBytes, relu int) (n int)

// PoolEntries lists the nonzero gradients a 2×2, stride-2 max pool sends
// back to its input, for AxpyTerms: planes planes of poh×pow windows, dp
// their gradients, pv their pooled values, arg their winners as offsets
// in input planes of rows rs floats apart. Where relu is set, a window
// whose pooled value is not positive sends nothing (the Relu before the
// pool). For each gradient kept, in order, it writes the value to gs, its
// winner's byte offset in a grid of wg pixels a row and pix bytes a pixel
// to goff, and its plane's byte offset in rows of rowBytes to woff, and
// returns how many it kept. dp, pv and arg must hold planes·poh·pow
// values, and gs, goff and woff 16 more: it writes past the last entry.
func PoolEntries(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
	planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int {
	n := planes * poh * pow
	if n <= 0 {
		return 0
	}
	_, _, _ = dp[n-1], pv[n-1], arg[n-1]
	_, _, _ = gs[n+15], goff[n+15], woff[n+15]
	r := 0
	if relu {
		r = 1
	}
	return poolEntries(&gs[0], &goff[0], &woff[0], &dp[0], &pv[0], &arg[0], planes, poh, pow, rs, wg, pix, rowBytes, r)
}

//go:noescape
func gatherRows(dst, src *float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint64)

// GatherRows copies rows·n vectors of 16 lanes from strided floats to
// contiguous ones: vector (r, i) is dst[r·dRow + i·dStep + lane] =
// src[r·sRow + i·sStep + lane·lStride] for the lanes in mask, or in last
// for the row's last vector (i = n−1); other lanes of dst are left as
// they were. It transposes images between planes and pixel-major grids.
// Strides are in floats and must not be negative; it panics where a lane
// would fall outside dst or src.
func GatherRows(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16) {
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
	gatherRows(&dst[0], &src[0], rows, n, 4*dRow, 4*sRow, 4*dStep, 4*sStep, 4*lStride, uint64(mask), uint64(last))
}
