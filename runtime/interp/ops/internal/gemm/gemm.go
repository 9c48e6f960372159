package gemm

import (
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/onnxguard/onnxguard/runtime/interp/internal/mem"
	"github.com/onnxguard/onnxguard/runtime/interp/internal/team"
)

// A Mul multiplies matrices for one node of a program: through the BLAS,
// or on the vector kernels where Kernels is set and they take the product
// (kernelTakes), with their scratch from Pool (nil: allocated). The
// interpreter sets Kernels from its options when it compiles the node.
type Mul struct {
	Kernels bool
	Pool    *mem.Pool
}

// parallelGemmFlops is the smallest product Gemm spreads over the cores
// itself: below it, starting goroutines costs more than it saves.
const parallelGemmFlops = 1 << 20

// Gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices,
// op(a) m×k and op(b) k×n, through whatever BLAS blas32.Use installed.
// When the call runs on one thread, a large product is cut into bands
// computed on all cores at once: OpenBLAS as onnxguard sets it up always
// does, gonum where the product has fewer than 4 of its 64×64 blocks of c
// (MNIST's last layer, 128×10, ran on one core), and so does the kernel
// path (kernelgemm.go).
func (g Mul) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, b []float32, beta float32, c []float32) {
	const gonumBlock, gonumParBlocks = 64, 4 // gonum's blockSize and minParBlock
	oneThread := threads == 1 || g.kernelTakes(transB, m, n, k) || g.dotsTake(transA, transB, m, k) ||
		threads == 0 && ((m+gonumBlock-1)/gonumBlock)*((n+gonumBlock-1)/gonumBlock) < gonumParBlocks
	workers := 1
	if oneThread && 2*m*n*k >= parallelGemmFlops {
		workers = runtime.GOMAXPROCS(0)
	}
	g.On(workers, transA, transB, m, n, k, alpha, a, b, beta, c)
}

// Serial is Gemm in one call to the BLAS, for callers that already keep
// every core busy.
func (g Mul) Serial(transA, transB bool, m, n, k int, alpha float32, a []float32, b []float32, beta float32, c []float32) {
	g.On(1, transA, transB, m, n, k, alpha, a, b, beta, c)
}

// Workers returns how many goroutines should share a batch of n samples,
// and the multiply each should call: one goroutine per core, each
// multiplying on its own (Serial), unless the BLAS already spreads every
// multiply over the cores, where a second level of threads would contend.
func (g Mul) Workers(n int) (int, func(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if threads > 1 || workers <= 1 {
		return 1, g.Gemm
	}
	return workers, g.Serial
}

// On is Gemm cut into at most workers bands; callers that already keep
// every core busy ask for one.
func (g Mul) On(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, b []float32, beta float32, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range c[:m*n] {
			c[i] *= beta
		}
		if beta == 0 { // c may hold anything, NaN included
			clear(c[:m*n])
		}
		return
	}
	if g.dotsTake(transA, transB, m, k) {
		dotGemm(workers > 1, m, n, k, alpha, a, b, beta, c)
		return
	}
	if g.kernelTakes(transB, m, n, k) {
		g.kernelGemm(workers > 1, transA, transB, m, n, k, alpha, a, b, beta, c)
		return
	}
	ta, lda := blas.NoTrans, k
	if transA {
		ta, lda = blas.Trans, m
	}
	tb, ldb := blas.NoTrans, n
	if transB {
		tb, ldb = blas.Trans, k
	}
	impl := blas32.Implementation()
	if workers <= 1 {
		impl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
		return
	}
	// A band of rows of c reads the same rows of op(a), a band of columns
	// the same columns of op(b). Cut the longer side.
	size := max(m, n)
	workers = min(workers, size)
	team.Run(workers, func(w int) {
		lo, hi := w*size/workers, (w+1)*size/workers
		if m >= n {
			aOff := lo * lda
			if transA {
				aOff = lo
			}
			impl.Sgemm(ta, tb, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*n:], n)
			return
		}
		bOff := lo
		if transB {
			bOff = lo * ldb
		}
		impl.Sgemm(ta, tb, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], n)
	})
}
