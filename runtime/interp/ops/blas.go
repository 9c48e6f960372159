package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// Which BLAS serves gemm: gonum's pure Go unless a build tag installed
// another (blas_openblas.go).
var (
	blasName    = "gonum"
	blasThreads = 0 // threads one BLAS call uses; 0 for gonum, whose goroutines share GOMAXPROCS
)

// BLAS names the implementation behind the matrix multiplies: "gonum"
// (pure Go, the default) or "openblas" (built with -tags openblas).
func BLAS() string { return blasName }

// Kernels says whether the interpreter's vector kernels run on this
// machine: "avx512f"; "off" where ONNXGUARD_KERNELS=off turned them off;
// or "none" where the CPU (or build) has none, and the portable paths run.
func Kernels() string {
	switch {
	case useKernels:
		return "avx512f"
	case kernel.Available:
		return "off"
	}
	return "none"
}
