// Package gemm provides the interpreter's matrix multiply,
// c = alpha·op(a)·op(b) + beta·c on row-major float32 matrices, and the
// choice of what computes it.
//
// The BLAS is chosen once, by build tag: gonum's pure Go, or OpenBLAS
// with -tags openblas (Name says which). A Mul is one node's multiplier:
// it cuts a large product into bands over the cores (package team) where
// the BLAS runs on one thread, and where its Kernels setting allows, it
// takes thin products, and on gonum wide ones too, on the direct
// convolution's vector kernels (kernelgemm.go), whose scratch comes from
// the program's pool (package mem).
package gemm
