//go:build openblas && cgo

package gemm

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"math"
	"os"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// Name names the BLAS behind the matrix multiplies.
const Name = "openblas"

// threads is how many threads one OpenBLAS call uses, set once as the
// package starts: 1 unless the environment asked for more.
var threads int

// Built with -tags openblas, every matrix multiply runs in OpenBLAS.
func init() {
	// One OpenBLAS thread per call: the operators spread their work over
	// GOMAXPROCS goroutines themselves (a convolution's samples, the bands
	// of a large product), which on conv-sized products beats OpenBLAS's
	// own threads and keeps one busy thread per core. OpenBLAS's idle
	// threads would also spin, taking cores from the Go code between
	// multiplies. OPENBLAS_NUM_THREADS still overrides.
	if os.Getenv("OPENBLAS_NUM_THREADS") == "" && os.Getenv("GOTO_NUM_THREADS") == "" && os.Getenv("OMP_NUM_THREADS") == "" {
		C.openblas_set_num_threads(1)
	}
	blas32.Use(openblas{})
	threads = int(C.openblas_get_num_threads())
}

// openblas is gonum's float32 BLAS with Sgemm, the only routine the
// operators lean on, replaced by OpenBLAS's.
type openblas struct{ gonum.Implementation }

func (impl openblas) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// Cases that C could not bound-check (bad arguments, which gonum
	// reports by panicking), that are trivial, or that overflow a C int
	// stay in gonum.
	if !sgemmArgsOK(tA, tB, m, n, k, a, lda, b, ldb, c, ldc) || k == 0 || alpha == 0 ||
		max(m, n, k, lda, ldb, ldc) > math.MaxInt32 {
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, cblasTrans(tA), cblasTrans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb),
		C.float(beta), (*C.float)(&c[0]), C.blasint(ldc))
}

func cblasTrans(t blas.Transpose) uint32 {
	if t == blas.NoTrans {
		return C.CblasNoTrans
	}
	return C.CblasTrans // real matrices: ConjTrans is Trans
}

// sgemmArgsOK reports whether the arguments describe matrices that lie
// within the slices, as gonum's Sgemm checks before touching memory.
func sgemmArgsOK(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) bool {
	valid := func(t blas.Transpose) bool { return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans }
	if !valid(tA) || !valid(tB) || m < 0 || n < 0 || k < 0 {
		return false
	}
	// fits reports whether a rows×cols row-major matrix with leading
	// dimension ld lies within s.
	fits := func(s []float32, rows, cols, ld int) bool {
		return ld >= max(1, cols) && (rows == 0 || cols == 0 || len(s) >= (rows-1)*ld+cols)
	}
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	return fits(a, ar, ac, lda) && fits(b, br, bc, ldb) && fits(c, m, n, ldc)
}
