// Package tensor provides the interpreter's tensor: a dense, row-major
// array of float32 values (activations, weights, gradients) or of int64
// values (the shapes, indices and masks that exporters compute), with its
// shape and, where it is known, its ONNX element type.
//
// The operators (package ops) read and write it, the executor (package
// interp) holds one per value of a graph, and callers of the interpreter
// pass inputs and receive outputs and gradients as tensors.
package tensor
