// Package runtime provides what onnxguard does with a model once it can run
// it: the Engine interface that both executors satisfy (ONNX Runtime in
// runtime/ort, the pure-Go interpreter in runtime/interp), and the batch
// loops on top of it: Evaluate for top-1 accuracy and Predict for raw
// outputs. Data arrives as pixels in [0,1] from package dataset and passes
// through the model's preprocessing on the way in.
package runtime
