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
// they alone read it, a Mul the Sigmoid or HardSigmoid gate of its other
// operand) and optional properties (properties.go: Foldable, Normalizer,
// ModeDependent). A Conv runs on the strategies a planner picks once per
// window (convplan.go: im2col, the flipped im2col, the direct kernels,
// depthwise, the depthwise rows, phases and pixels on the kernels, each in its
// own file), and MaxPool on the kernel picked for
// its window (maxpool2x2.go, maxpoolwindow.go).
//
// Where a node's State.Kernels is set (the executor sets it from
// interp.Options.Kernels: by default where the CPU runs the AVX-512F
// assembly), unit-stride convolutions, their gradients, the 2×2 max pool
// and sums run on the kernels of internal/kernel (a Relu's gradient reads
// the bit mask of relu.go). Otherwise the
// heavy kernels (convolution as im2col plus a matrix multiply, Gemm,
// MatMul) go through the matrix multiply of internal/gemm, on gonum's BLAS
// or, built with -tags openblas, OpenBLAS's (BLAS says which); thin
// products, and on gonum wide ones too, run on the convolution kernel
// instead. The ops keep the infrastructure's names: Tensor is package
// tensor's, Buffers the program's pool of storage (internal/mem), and run,
// forSamples and forChunks share work out over the thread team
// (internal/team), whose helper goroutines stay awake between parallel
// regions.
package ops
