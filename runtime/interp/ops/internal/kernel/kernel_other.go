//go:build !amd64 || purego

package kernel

// Available is false: there is no kernel for this architecture (or the
// purego tag was given), and convolutions take the im2col path.
const Available = false

// Run must not be called: Available is false.
func Run(Shape, *Tile) { panic("kernel: Run called where Available is false") }

// Max2x2 must not be called: Available is false.
func Max2x2(dst, src []float32, planes, h, w, oh, ow int) {
	panic("kernel: Max2x2 called where Available is false")
}

// MaxArg2x2 must not be called: Available is false.
func MaxArg2x2(dst []float32, arg []int32, src []float32, planes, h, w, oh, ow int) {
	panic("kernel: MaxArg2x2 called where Available is false")
}

// ReluMask must not be called: Available is false.
func ReluMask(dst, dy, y []float32) { panic("kernel: ReluMask called where Available is false") }

// RunGrad must not be called: Available is false.
func RunGrad(*GradTile) { panic("kernel: RunGrad called where Available is false") }

// CompactRows must not be called: Available is false.
func CompactRows(dst, src []float32, rows, n, stride int) {
	panic("kernel: CompactRows called where Available is false")
}

// Sum must not be called: Available is false.
func Sum(x []float32) float32 { panic("kernel: Sum called where Available is false") }

// Unpool2x2 must not be called: Available is false.
func Unpool2x2(dst, dy, pv []float32, arg []int32, planes, oh, ow, rs, row, plane int, relu bool) {
	panic("kernel: Unpool2x2 called where Available is false")
}

// SumWhere must not be called: Available is false.
func SumWhere(x, y []float32) float32 { panic("kernel: SumWhere called where Available is false") }

// AxpyTerms must not be called: Available is false.
func AxpyTerms(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	panic("kernel: AxpyTerms called where Available is false")
}

// AxpyRuns must not be called: Available is false.
func AxpyRuns(d, s, g []float32, doff, soff []int32, dstep, sstep []int64) {
	panic("kernel: AxpyRuns called where Available is false")
}

// PoolEntries must not be called: Available is false.
func PoolEntries(gs []float32, goff, woff []int32, dp, pv []float32, arg []int32,
	planes, poh, pow, rs, wg, pix, rowBytes int, relu bool) int {
	panic("kernel: PoolEntries called where Available is false")
}

// GatherRows must not be called: Available is false.
func GatherRows(dst, src []float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint16) {
	panic("kernel: GatherRows called where Available is false")
}
