//go:build cgo

package testort

// cgo says whether this build can call ONNX Runtime (runtime/ort needs cgo).
const cgo = true
