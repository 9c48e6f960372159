package kernel

// The kernels, on native: the assembly where this CPU runs it, the Go
// twins (twin.go) elsewhere, behind the checks of their arguments (api.go).

// Run computes one tile of shape s (Tall, Tall2, Tall1, Broad, Wide or
// Run1); another shape is a programming error, and panics.
func Run(s Shape, t *Tile) { checked{native}.Run(s, t) }

// RunGrad computes the sums of a GradTile.
func RunGrad(t *GradTile) { checked{native}.RunGrad(t) }

// Max2x2 is a 2×2, stride-2 max pool of planes of h×w floats (src) to
// planes of oh×ow (dst), 2·oh ≤ h and 2·ow ≤ w: each output is the
// maximum of its window.
func Max2x2(dst, src []float32, planes, h, w, oh, ow int) {
	checked{native}.Max2x2(dst, src, planes, h, w, oh, ow)
}

// MaxArg2x2 is Max2x2 that also writes the winner of each window to arg,
// as an offset in its plane. The first maximum in row-major order wins
// ties.
func MaxArg2x2(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int) {
	checked{native}.MaxArg2x2(dst, arg, src, planes, h, w, oh, ow)
}

// CompactRows copies rows rows of n floats, stride apart in src, to dst
// one after another: a wide buffer's rows without their extra columns.
func CompactRows(dst, src []float32, rows, n, stride int) {
	checked{native}.CompactRows(dst, src, rows, n, stride)
}

// Sum returns the sum of x.
func Sum(x []float32) float32 { return checked{native}.Sum(x) }

// Unpool2x2 is the gradient through MaxArg2x2, and a Relu before it when
// relu is set: for planes planes of oh×ow windows (dy, pv the pooled
// values, arg the winners as offsets in planes of rows rs apart), each
// window's gradient goes to its winner and zero to its other inputs, and
// a window whose pooled value is not positive sends zero under relu. The
// 2·oh rows of 2·ow values are written to dst, rows row floats apart and
// planes plane apart; nothing else of dst is touched.
func Unpool2x2(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool) {
	checked{native}.Unpool2x2(dst, dy, pv, arg, planes, oh, ow, rs, row, plane, relu)
}

// SumWhere returns the sum of x[i] over the i where y[i] > 0; y must be
// as long as x.
func SumWhere(x, y []float32) float32 { return checked{native}.SumWhere(x, y) }

// AxpyTerms adds, for each entry e of g and each term j of dstep, g[e]
// times the 16 floats of s at byte offset soff[e] + sstep[j] to the 16
// floats of d at byte offset doff[e] + dstep[j]: the scatter of a sparse
// gradient, each nonzero times a row of weights (or of an image), in 16
// lanes at a time. doff and soff must be as long as g, sstep as dstep,
// offsets must be whole floats, and every offset pair must lie within d
// and s with 16 floats to spare; it panics otherwise, having checked
// before it writes.
func AxpyTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	checked{native}.AxpyTerms(d, s, g, doff, soff, dstep, sstep)
}

// AxpyRuns is AxpyTerms for entries whose doff come in runs of equal
// values, as a weight gradient's do (entries listed output channel by
// output channel, doff the channel's row): it sums each run in registers
// and adds the sums to d once per run, where AxpyTerms loads and stores d
// for every entry. Any doff are correct; runs make it fast. The sums run
// in another order than AxpyTerms'.
func AxpyRuns(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	checked{native}.AxpyRuns(d, s, g, doff, soff, dstep, sstep)
}

// PoolEntries lists the nonzero gradients a 2×2, stride-2 max pool sends
// back to its input, for AxpyTerms: planes planes of poh×pow windows, dp
// their gradients, pv their pooled values, arg their winners as offsets
// in input planes of rows rs floats apart. Where relu is set, a window
// whose pooled value is not positive sends nothing (the Relu before the
// pool). For each gradient kept, in order, it writes the value to gs, its
// winner's byte offset in a grid of wg pixels a row and pix bytes a pixel
// to goff, and its plane's byte offset in rows of rowBytes to woff, and
// returns how many it kept. dp, pv and arg must hold planes·poh·pow
// values, and gs, goff and woff 16 more: it may write past the last entry.
func PoolEntries(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
	planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int {
	return checked{native}.PoolEntries(gs, goff, woff, dp, pv, arg, planes, poh, pow, rs, wg, pix, rowBytes, relu)
}

// GatherRows copies rows·n vectors of 16 lanes from strided floats to
// contiguous ones: vector (r, i) is dst[r·dRow + i·dStep + lane] =
// src[r·sRow + i·sStep + lane·lStride] for the lanes in mask, or in last
// for the row's last vector (i = n−1); other lanes of dst are left as
// they were. It transposes images between planes and pixel-major grids.
// Strides are in floats and must not be negative; it panics where a lane
// would fall outside dst or src.
func GatherRows(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16) {
	checked{native}.GatherRows(dst, src, rows, n, dRow, sRow, dStep, sStep, lStride, mask, last)
}
