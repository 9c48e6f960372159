// Package interp provides onnxguard's differentiable ONNX interpreter: it
// runs a model's graph in float32 in pure Go and computes gradients of a
// softmax cross-entropy loss with respect to the input and every weight.
//
// Compile checks a model once: every node must have an implementation in
// package ops at the model's opset, with valid attributes, and dry runs on
// zero batches of one and two samples infer the shape of every value (and
// which dimensions follow the batch), so a model the interpreter
// cannot run fails before any data flows. Model files are untrusted input:
// attributes are checked against the spec (ErrUnsupported for what is
// valid but not implemented, onnx.ErrInvalid for what is malformed), and
// the declared input and every tensor the dry run infers must fit the
// memory budget, Options.MaxMemory (ErrTooLarge), each refused before
// anything that size is allocated. Preflight applies the same checks to
// a model another engine is to run. A Program then runs batches in one
// of two modes: inference (BatchNormalization uses running statistics,
// Dropout is the identity) or training (batch statistics, running statistics
// updated with the node's momentum, seeded Dropout masks), chosen per call
// by a Mode (RunMode, Want.Mode) so no mode outlives its call. FreezeBatchNorm
// keeps BatchNormalization on its running statistics in training mode, and
// Reseed restarts the Dropout generator, so a training loop can draw masks
// from its own position and resume exactly.
//
// The loss is computed on the logits. When the graph ends in Softmax or
// LogSoftmax, the loss takes the tensor before it, because differentiating
// through a saturated softmax makes input gradients vanish, which would
// silently weaken every attack.
package interp
