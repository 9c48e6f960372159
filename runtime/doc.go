// Package runtime provides what onnxguard does with a model once it can run
// it: the Engine interface that both executors satisfy (ONNX Runtime's
// Session in runtime/ort, the pure-Go interpreter's Engine in
// runtime/interp; this package imports neither), Batches, the one loop that
// feeds a model exported with a fixed batch size in padded chunks, and the
// batch loops on top of Engine: Evaluate for top-1 accuracy and Predict
// for raw outputs. Data arrives as pixels in [0,1] from package dataset and passes
// through the model's preprocessing on the way in.
package runtime
