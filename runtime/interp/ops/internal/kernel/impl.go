package kernel

// impl is one implementation of the kernels: the assembly
// (kernel_amd64.go) or the Go twins (goKernels). Its methods take the
// arguments the exported functions (api.go) have checked: slices long
// enough, and not empty. The test suite runs over every implementation
// the machine has.
type impl interface {
	run(s Shape, t *Tile)
	runGrad(t *GradTile)
	max2x2(dst, src []float32, planes, h, w, oh, ow int)
	maxArg2x2(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int)
	compactRows(dst, src []float32, rows, n, stride int)
	sum(x []float32) float32
	unpool2x2(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool)
	sumWhere(x, y []float32) float32
	checkOffsets(doff, soff []int32, dlim, slim uint32) (bad bool)
	axpyTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64)
	axpyRuns(d, s, g []float32, doff, soff []int32, dstep, sstep []int64)
	poolEntries(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
		planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int
	gatherRows(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16)
	transpose(dst, src []float32, rows, cols, dStride, sStride int)
	depthwiseRow(out, x, w, bias []float32, toff []int64, n, cp, xStep int, relu bool)
	depthwiseGradRow(acc, dy, x []float32, toff []int64, n, cp, xStep int)
	depthwisePlanes(r *RowRuns, out, x, wts, bias []float32, planes, oPlane, xPlane, wPlane int, relu bool)
	depthwiseRowsGrad(l *RowLayout, sums, dy, x []float32, dyRow, xRow, rows int)
	// The Relu bit masks (masks.go), over whole words: len(x) = 64·len(m).
	reluMask(y, x []float32, m []uint64)
	positiveMask(m []uint64, y []float32)
	passMask(dx, dy []float32, m []uint64)
	// The activations (acts.go), over whole vectors (whole words for
	// clipMask); d and m may be nil.
	silu(y, d, x []float32)
	hardSwish(y, d, x []float32, alpha, beta float32)
	clipMask(y, x []float32, m []uint64, lo, hi float32)
	dot(a, b []float32) float32 // len(b) = len(a) > 0
	// The stride-2 shuffles (acts.go), over whole vectors.
	deinterleave(even, odd, src []float32)
	interleave(dst, even, odd []float32)
	// The product and the sum of two vectors (acts.go), over whole
	// vectors.
	mul(dst, a, b []float32)
	add(dst, a, b []float32)
	// A vector and a scalar (acts.go), over whole vectors.
	scale(dst, src []float32, c float32)
	shift(dst, src []float32, c float32)
	fill(dst []float32, c float32)
}

// goKernels is the Go twins (twin.go) as an impl.
type goKernels struct{}

func (goKernels) run(s Shape, t *Tile) { runGo(s, t) }
func (goKernels) transpose(dst, src []float32, rows, cols, dStride, sStride int) {
	transposeGo(dst, src, rows, cols, dStride, sStride)
}
func (goKernels) depthwiseGradRow(acc, dy, x []float32, toff []int64, n, cp, xStep int) {
	depthwiseGradRowGo(acc, dy, x, toff, n, cp, xStep)
}
func (goKernels) depthwiseRow(out, x, w, bias []float32, toff []int64, n, cp, xStep int, relu bool) {
	depthwiseRowGo(out, x, w, bias, toff, n, cp, xStep, relu)
}
func (goKernels) depthwisePlanes(r *RowRuns, out, x, wts, bias []float32, planes, oPlane, xPlane, wPlane int, relu bool) {
	depthwisePlanesGo(r, out, x, wts, bias, planes, oPlane, xPlane, wPlane, relu)
}
func (goKernels) depthwiseRowsGrad(l *RowLayout, sums, dy, x []float32, dyRow, xRow, rows int) {
	depthwiseRowsGradGo(l, sums, dy, x, dyRow, xRow, rows)
}
func (goKernels) runGrad(t *GradTile) { runGradGo(t) }
func (goKernels) max2x2(dst, src []float32, planes, h, w, oh, ow int) {
	max2x2Go(dst, src, planes, h, w, oh, ow)
}
func (goKernels) maxArg2x2(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int) {
	maxArg2x2Go(dst, arg, src, planes, h, w, oh, ow)
}
func (goKernels) compactRows(dst, src []float32, rows, n, stride int) {
	compactRowsGo(dst, src, rows, n, stride)
}
func (goKernels) sum(x []float32) float32 { return sumGo(x) }
func (goKernels) unpool2x2(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool) {
	unpool2x2Go(dst, dy, pv, arg, planes, oh, ow, rs, row, plane, relu)
}
func (goKernels) sumWhere(x, y []float32) float32 { return sumWhereGo(x, y) }
func (goKernels) checkOffsets(doff, soff []int32, dlim, slim uint32) bool {
	return checkOffsetsGo(doff, soff, dlim, slim)
}
func (goKernels) axpyTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	axpyTermsGo(d, s, g, doff, soff, dstep, sstep)
}
func (goKernels) axpyRuns(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	axpyTermsGo(d, s, g, doff, soff, dstep, sstep)
}
func (goKernels) poolEntries(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
	planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int {
	return poolEntriesGo(gs, goff, woff, dp, pv, arg, planes, poh, pow, rs, wg, pix, rowBytes, relu)
}
func (goKernels) gatherRows(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16) {
	gatherRowsGo(dst, src, rows, n, dRow, sRow, dStep, sStep, lStride, mask, last)
}
func (goKernels) reluMask(y, x []float32, m []uint64)   { reluMaskGo(y, x, m) }
func (goKernels) positiveMask(m []uint64, y []float32)  { positiveMaskGo(m, y) }
func (goKernels) passMask(dx, dy []float32, m []uint64) { passMaskGo(dx, dy, m, 0) }
func (goKernels) silu(y, d, x []float32)                { siluGo(y, d, x) }
func (goKernels) hardSwish(y, d, x []float32, alpha, beta float32) {
	hardSwishGo(y, d, x, alpha, beta)
}
func (goKernels) clipMask(y, x []float32, m []uint64, lo, hi float32) { clipMaskGo(y, x, m, lo, hi) }
func (goKernels) dot(a, b []float32) float32                          { return dotGo(a, b) }
func (goKernels) deinterleave(even, odd, src []float32) {
	for j := range even {
		even[j], odd[j] = src[2*j], src[2*j+1]
	}
}
func (goKernels) mul(dst, a, b []float32)             { mulGo(dst, a, b) }
func (goKernels) add(dst, a, b []float32)             { addGo(dst, a, b) }
func (goKernels) scale(dst, src []float32, c float32) { scaleGo(dst, src, c) }
func (goKernels) shift(dst, src []float32, c float32) { shiftGo(dst, src, c) }
func (goKernels) fill(dst []float32, c float32)       { fillGo(dst, c) }
func (goKernels) interleave(dst, even, odd []float32) {
	for j := range even {
		dst[2*j], dst[2*j+1] = even[j], odd[j]
	}
}
