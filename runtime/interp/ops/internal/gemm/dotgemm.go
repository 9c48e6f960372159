package gemm

import (
	"github.com/onnxguard/onnxguard/runtime/interp/internal/team"
	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// A classifier's Gemm at a small batch multiplies a few rows of
// activations by the transpose of a large weight matrix, stored n×k as
// exported (MobileNet-V3's 960→1280 and 1280→1000 layers at batch 16).
// The kernel path transposed the 5 MB of weights on every call, most of
// the product's time; here each entry of c is the dot product of a row
// of a and a row of b on the vector kernel (kernel.Dot), b's rows taken
// a block at a time while the few rows of a stay in cache, so that b is
// read once.

// dotRows is the most rows of c the dot path takes: beyond them the
// kernel path's transpose is worth its cost.
const dotRows = 32

// dotsTake reports whether dotGemm computes c = alpha·a·bᵀ + beta·c: the
// kernels run, the BLAS is gonum (OpenBLAS multiplies such products
// well), b is transposed and a is not, c has at most dotRows rows, and
// the inner dimension fills four vectors.
func (g Mul) dotsTake(transA, transB bool, m, k int) bool {
	return g.Kernels && Name == "gonum" && transB && !transA && m <= dotRows && k >= 4*kernel.Lanes
}

// dotBlock is the rows of b a chunk of dotGemm reads: 16 rows of 1280
// floats are 80 KB.
const dotBlock = 16

// dotGemm computes c = alpha·a·bᵀ + beta·c for a m×k and b n×k, spread
// over the cores if parallel.
func dotGemm(parallel bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32) {
	_, _, _ = a[:m*k], b[:n*k], c[:m*n]
	cost := 0
	if parallel {
		cost = 2 * dotBlock * m * k
	}
	team.ForChunks((n+dotBlock-1)/dotBlock, cost, func(lo, hi int) {
		for j := lo * dotBlock; j < min(hi*dotBlock, n); j++ {
			bj := b[j*k:][:k]
			for i := range m {
				v := alpha * kernel.Dot(a[i*k:][:k], bj)
				if beta != 0 {
					v += beta * c[i*n+j]
				}
				c[i*n+j] = v
			}
		}
	})
}
