//go:build !(openblas && cgo)

package gemm

// Name names the BLAS behind the matrix multiplies: gonum's pure Go,
// unless the build installed OpenBLAS (blas_openblas.go).
const Name = "gonum"

// threads is how many threads one BLAS call uses: 0 for gonum, whose
// goroutines share GOMAXPROCS.
const threads = 0
