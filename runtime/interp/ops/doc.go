// Package ops provides the ONNX operators of onnxguard's differentiable
// interpreter: one file per operator, holding its attribute parsing with the
// specification's defaults, its forward pass and its backward pass, side by
// side, registered by the opset version that introduced it.
//
// New builds the Op for a graph node, picking the newest registered version
// not above the model's opset. Forward computes the outputs and keeps in its
// State what Backward will need; Backward turns the gradients of the outputs
// into gradients of the inputs, nil where an input is not differentiable
// (shapes, indices, integer tensors). Tensors are float32 for activations and
// weights, int64 for the shape computations that exporters emit.
//
// Operators declare what the executor needs to know of them: fusion rules
// (fusion.go; a Conv takes the Relu and the 2×2 MaxPool after it where
// they alone read it) and optional properties (properties.go:
// Foldable, Normalizer, ModeDependent). A Conv runs on the strategies a
// planner picks once per window (convplan.go: im2col, the flipped im2col,
// the direct kernels, each in its own file), and MaxPool on the kernel
// picked for its window (maxpool2x2.go, maxpoolwindow.go).
//
// On amd64 with AVX-512F, unit-stride convolutions, their gradients, the
// 2×2 max pool and the Relu mask run on the assembly kernels of
// internal/kernel (directconv.go).
// Elsewhere the heavy kernels (convolution as im2col plus a matrix
// multiply, Gemm, MatMul) go through gonum's BLAS interface, so a faster implementation
// registered with blas32.Use serves every operator at once: built with
// -tags openblas, that is OpenBLAS's, and BLAS says which is in use;
// thin products, and on gonum wide ones too, run on the convolution
// kernel instead (kernelgemm.go). The cores are shared out in Go, not by
// the BLAS: a convolution gives each worker its own run of the batch's
// samples, and a large product is cut into bands, on helper goroutines
// that stay awake between such regions (team.go).
package ops
