//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Available reports whether this CPU runs the kernels' assembly: it needs
// AVX-512F, whose 32 vector registers hold a tile's 24 accumulators and
// whose lane masks cover ragged rows. Elsewhere the Go twins run.
var Available = cpu.X86.HasAVX512F

// native is the implementation the exported kernels run on.
var native impl = func() impl {
	if Available {
		return asmKernels{}
	}
	return goKernels{}
}()

// asmKernels is the assembly as an impl.
type asmKernels struct{}

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

//go:noescape
func tile6x4(t *Tile)

//go:noescape
func tile1x12(t *Tile)

func (asmKernels) runGrad(t *GradTile) { gradTile8x3(t) }

func (asmKernels) run(s Shape, t *Tile) {
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

func (asmKernels) max2x2(dst, src []float32, planes, h, w, oh, ow int) {
	max2x2(&dst[0], &src[0], planes, oh, ow, w, h*w)
}

func (asmKernels) maxArg2x2(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int) {
	maxArg2x2(&dst[0], &arg[0], &src[0], planes, oh, ow, w, h*w)
}

//go:noescape
func compactRows(dst, src *float32, rows, n, stride int)

func (asmKernels) compactRows(dst, src []float32, rows, n, stride int) {
	compactRows(&dst[0], &src[0], rows, n, stride)
}

//go:noescape
func sum(x *float32, n int) float32

func (asmKernels) sum(x []float32) float32 { return sum(&x[0], len(x)) }

//go:noescape
func unpool2x2(dst, dy, pv *float32, arg *int32, planes, oh, ow, rs, row, plane, relu int)

func (asmKernels) unpool2x2(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool) {
	r := 0
	if relu {
		r = 1
	}
	unpool2x2(&dst[0], &dy[0], &pv[0], &arg[0], planes, oh, ow, rs, row, plane, r)
}

//go:noescape
func sumWhere(x, y *float32, n int) float32

func (asmKernels) sumWhere(x, y []float32) float32 { return sumWhere(&x[0], &y[0], len(x)) }

//go:noescape
func checkOffsets(doff, soff *int32, n int, dlim, slim uint32) (bad bool)

//go:noescape
func axpyTerms(d, s, gs *float32, doff, soff *int32, n int, dstep, sstep *int64, t int)

//go:noescape
func axpyRuns(d, s, gs *float32, doff, soff *int32, n int, dstep, sstep *int64, t int)

func (asmKernels) checkOffsets(doff, soff []int32, dlim, slim uint32) bool {
	return checkOffsets(&doff[0], &soff[0], len(doff), dlim, slim)
}

func (asmKernels) axpyTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	axpyTerms(&d[0], &s[0], &g[0], &doff[0], &soff[0], len(g), &dstep[0], &sstep[0], len(dstep))
}

func (asmKernels) axpyRuns(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	n, t := len(g), len(dstep)
	if pairs := t &^ 1; pairs > 0 {
		axpyRuns(&d[0], &s[0], &g[0], &doff[0], &soff[0], n, &dstep[0], &sstep[0], pairs)
	}
	if t%2 == 1 {
		axpyTerms(&d[0], &s[0], &g[0], &doff[0], &soff[0], n, &dstep[t-1], &sstep[t-1], 1)
	}
}

//go:noescape
func poolEntries(gs *float32, goff, woff *int32, dp, pv *float32, arg *int32,
	planes, poh, pow, rs, wg, pix, rowBytes, relu int) (n int)

func (asmKernels) poolEntries(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
	planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int {
	r := 0
	if relu {
		r = 1
	}
	return poolEntries(&gs[0], &goff[0], &woff[0], &dp[0], &pv[0], &arg[0], planes, poh, pow, rs, wg, pix, rowBytes, r)
}

//go:noescape
func gatherRows(dst, src *float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint64)

func (asmKernels) gatherRows(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16) {
	gatherRows(&dst[0], &src[0], rows, n, 4*dRow, 4*sRow, 4*dStep, 4*sStep, 4*lStride, uint64(mask), uint64(last))
}

//go:noescape
func reluMask(y, x *float32, m *uint64, words int)

//go:noescape
func positiveMask(m *uint64, y *float32, words int)

//go:noescape
func passMask(dx, dy *float32, m *uint64, words int)

func (asmKernels) reluMask(y, x []float32, m []uint64)   { reluMask(&y[0], &x[0], &m[0], len(m)) }
func (asmKernels) positiveMask(m []uint64, y []float32)  { positiveMask(&m[0], &y[0], len(m)) }
func (asmKernels) passMask(dx, dy []float32, m []uint64) { passMask(&dx[0], &dy[0], &m[0], len(m)) }

//go:noescape
func silu(y, d, x *float32, n int)

//go:noescape
func hardSwish(y, d, x *float32, n int, alpha, beta float32)

//go:noescape
func clipMask(y, x *float32, m *uint64, words int, lo, hi float32)

func (asmKernels) silu(y, d, x []float32) { silu(&y[0], first(d), &x[0], len(x)/Lanes) }

func (asmKernels) hardSwish(y, d, x []float32, alpha, beta float32) {
	hardSwish(&y[0], first(d), &x[0], len(x)/Lanes, alpha, beta)
}

func (asmKernels) clipMask(y, x []float32, m []uint64, lo, hi float32) {
	clipMask(&y[0], &x[0], first(m), len(x)/64, lo, hi)
}

//go:noescape
func dot(a, b *float32, n int) float32

func (asmKernels) dot(a, b []float32) float32 { return dot(&a[0], &b[0], len(a)) }

//go:noescape
func mul(dst, a, b *float32, n int)

func (asmKernels) mul(dst, a, b []float32) { mul(&dst[0], &a[0], &b[0], len(dst)/Lanes) }

//go:noescape
func add(dst, a, b *float32, n int)

func (asmKernels) add(dst, a, b []float32) { add(&dst[0], &a[0], &b[0], len(dst)/Lanes) }

//go:noescape
func scale(dst, src *float32, c float32, n int)

func (asmKernels) scale(dst, src []float32, c float32) { scale(&dst[0], &src[0], c, len(dst)/Lanes) }

//go:noescape
func shift(dst, src *float32, c float32, n int)

func (asmKernels) shift(dst, src []float32, c float32) { shift(&dst[0], &src[0], c, len(dst)/Lanes) }

//go:noescape
func fill(dst *float32, c float32, n int)

func (asmKernels) fill(dst []float32, c float32) { fill(&dst[0], c, len(dst)/Lanes) }

//go:noescape
func transpose(dst, src *float32, rows, cols, dStride, sStride int)

func (asmKernels) transpose(dst, src []float32, rows, cols, dStride, sStride int) {
	transpose(&dst[0], &src[0], rows, cols, dStride, sStride)
}

//go:noescape
func deinterleave(even, odd, src *float32, n int)

//go:noescape
func interleave(dst, even, odd *float32, n int)

func (asmKernels) deinterleave(even, odd, src []float32) {
	deinterleave(&even[0], &odd[0], &src[0], len(even)/Lanes)
}

func (asmKernels) interleave(dst, even, odd []float32) {
	interleave(&dst[0], &even[0], &odd[0], len(even)/Lanes)
}

// first returns &s[0], or nil where s is nil.
func first[T any](s []T) *T {
	if s == nil {
		return nil
	}
	return &s[0]
}

//go:noescape
func depthwiseRow(out, x, w, bias *float32, toff *int64, taps, n, cp, xStep, relu int)

func (asmKernels) depthwiseRow(out, x, w, bias []float32, toff []int64, n, cp, xStep int, relu bool) {
	r := 0
	if relu {
		r = 1
	}
	depthwiseRow(&out[0], &x[0], &w[0], &bias[0], &toff[0], len(toff), n, 4*cp, 4*xStep, r)
}

//go:noescape
func depthwiseGradRow(acc, dy, x *float32, toff *int64, taps, n, cp, xStep int)

func (asmKernels) depthwiseGradRow(acc, dy, x []float32, toff []int64, n, cp, xStep int) {
	depthwiseGradRow(&acc[0], &dy[0], &x[0], &toff[0], len(toff), n, 4*cp, 4*xStep)
}

//go:noescape
func depthwiseRows(a *rowArgs)

func (asmKernels) depthwisePlanes(r *RowRuns, out, x, wts, bias []float32, planes, oPlane, xPlane, wPlane int, relu bool) {
	l := r.l
	a := rowArgs{out: unsafe.Pointer(&out[0]), masks: unsafe.Pointer(&l.masks[0]),
		blocks: int64(l.blocks), kw: int64(l.kw), oRow: int64(4 * r.oRow), xRow: int64(4 * r.xRow),
		xTap: int64(4 * l.w), xCol0: int64(-4 * l.pw), xBlock: int64(4 * Lanes * l.stride), maskStep: int64(8 * (l.kw + 1)),
		stride: int64(l.stride), runs: unsafe.Pointer(&r.runs[0]), nRuns: int64(len(r.runs)), planes: int64(planes),
		oPlane: int64(4 * oPlane), xPlane: int64(4 * xPlane), wPlane: int64(4 * wPlane)}
	if r.xSpan > 0 { // otherwise every run is bias alone, and reads neither
		a.x, a.w = unsafe.Pointer(&x[0]), unsafe.Pointer(&wts[0])
	}
	if l.up {
		a.stride, a.xCol0, a.xBlock = 3, 0, 4*Lanes/2
	}
	if relu {
		a.relu = 1
	}
	if bias != nil {
		a.bias = uintptr(unsafe.Pointer(&bias[0]))
	}
	depthwiseRows(&a)
	runtime.KeepAlive(bias)
}

//go:noescape
func depthwiseRowsGrad(a *rowArgs)

//go:noescape
func depthwiseRowsGrad3(a *rowArgs)

func (asmKernels) depthwiseRowsGrad(l *RowLayout, sums, dy, x []float32, dyRow, xRow, rows int) {
	a := gradArgs(l, sums, dy, x, dyRow, xRow, rows)
	// A 3-tap kernel row, every MobileNet-V2 depthwise layer's: the taps
	// at once, dY loaded once for the three (BenchmarkDepthwiseRowsGrad:
	// 1.8 times as fast at stride 2 in cache, 1.3 at stride 1), the same
	// sums bit for bit.
	if l.kw == 3 {
		depthwiseRowsGrad3(&a)
		return
	}
	depthwiseRowsGrad(&a)
}

// gradArgs is the argument block of the weight-gradient kernels: sums
// (kw floats) added to, dy and x from the first row, rows output rows
// dyRow and xRow floats apart.
func gradArgs(l *RowLayout, sums, dy, x []float32, dyRow, xRow, rows int) rowArgs {
	return rowArgs{out: unsafe.Pointer(&sums[0]), x: unsafe.Pointer(&x[0]), w: unsafe.Pointer(&dy[0]), masks: unsafe.Pointer(&l.masks[0]),
		rows: int64(rows), blocks: int64(l.blocks), kw: int64(l.kw), oRow: int64(4 * dyRow), xRow: int64(4 * xRow),
		xCol0: int64(-4 * l.pw), xBlock: int64(4 * Lanes * l.stride), maskStep: int64(8 * (l.kw + 1)), stride: int64(l.stride)}
}
