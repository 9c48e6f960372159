// Package ort runs ONNX image classifiers with ONNX Runtime, the reference
// against which onnxguard's own interpreter and attacks are checked.
//
// FindLibrary locates libonnxruntime.so (Options.Library, then
// $ONNXRUNTIME_LIB, then the cache folder that scripts/setup-ort.sh fills). Open loads a model
// on the device that Options asks for and checks that it is a classifier this
// package can drive: one float32 input whose first axis is the batch, and a
// float32 first output taken as the logits. Session.Run feeds it a batch of
// preprocessed NCHW samples of any size, running fixed-batch exports in
// chunks, and returns the logits.
//
// Every model passes Options.Check before ONNX Runtime sees it, within
// Options.MaxMemory: ONNX Runtime trusts a model's attributes (a stride of
// 0 kills the process with SIGFPE while it builds the session), so a
// malformed or oversized model is refused with an error instead. The
// check is the caller's to pass (onnxguard passes the interpreter's
// interp.PreflightCheck), which keeps this package free of the
// interpreter; Open refuses Options without one.
//
// ONNX Runtime is reached through cgo (github.com/yalue/onnxruntime_go), and
// only from this package. Its environment is process-global: the first Open
// loads the library and later Opens must name the same file. A build with
// CGO_ENABLED=0 compiles, but Open then returns ErrNoCgo. Errors that a
// caller can act on wrap ErrLibraryMissing, ErrSecondLibrary, ErrNoCUDA or
// ErrNoCgo.
package ort
