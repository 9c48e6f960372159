package ops

// Which BLAS serves gemm: gonum's pure Go unless a build tag installed
// another (blas_openblas.go).
var (
	blasName    = "gonum"
	blasThreads = 0 // threads one BLAS call uses; 0 for gonum, whose goroutines share GOMAXPROCS
)

// BLAS names the implementation behind the matrix multiplies: "gonum"
// (pure Go, the default) or "openblas" (built with -tags openblas).
func BLAS() string { return blasName }
