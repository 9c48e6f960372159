package ops

import (
	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/gemm"
	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// BLAS names the implementation behind the matrix multiplies: "gonum"
// (pure Go, the default) or "openblas" (built with -tags openblas).
func BLAS() string { return gemm.Name }

// Kernels names the vector kernels this build runs on this machine:
// "avx512f" where the CPU runs their assembly, "go" where there is none
// (another CPU, or the purego build tag) and their pure-Go twins would
// run. Whether a node takes the kernel paths at all is State.Kernels.
func Kernels() string {
	if kernel.Available {
		return "avx512f"
	}
	return "go"
}

// mul is the node's matrix multiplier: the kernels as State.Kernels says,
// scratch from its Buffers.
func (s *State) mul() gemm.Mul { return gemm.Mul{Kernels: s.Kernels, Pool: s.Buffers} }

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices,
// op(a) m×k and op(b) k×n (gemm.Mul.Gemm), spread over the cores where
// that pays.
func (s *State) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, b []float32, beta float32, c []float32) {
	s.mul().Gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
}

// sampleWorkers returns how many goroutines should share a batch of n
// samples, and the matrix multiply each should call (gemm.Mul.Workers).
func (s *State) sampleWorkers(n int) (int, func(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32)) {
	return s.mul().Workers(n)
}
