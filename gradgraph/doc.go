// Package gradgraph turns an ONNX classifier into one ONNX graph that
// computes its logits, the mean softmax cross-entropy loss against int64
// labels, and the loss's gradient with respect to the input (and, on
// request, to every floating-point initializer), so that ONNX Runtime, on
// any of its execution providers, computes the gradients onnxguard's attacks
// and training need.
//
// Build copies the model's forward nodes, appends the loss (the definition
// of interp.SoftmaxCrossEntropy) and walks the graph backwards from it,
// asking each operator's rule for the ONNX nodes of its backward pass. Each
// differentiable operator has its rule in a file of its own, registered by
// op type; shapes come from the interpreter's compile-time shape inference,
// with the batch axis left dynamic. The graph computes in inference mode
// (Dropout passes through, BatchNormalization uses its running statistics)
// and is written at opset 16 or the model's, if later; models older than
// opset 13 are refused. An operator without a rule is an error wrapping
// ErrUnsupported that names the node.
//
// Engine runs the result in ONNX Runtime sessions, through LossGrad, or
// through InputInfo, Run and Grad, the methods of the interpreter's Program
// that attacks and training consume. The interpreter stays the reference:
// the tests compare both engines' gradients on every model they share.
package gradgraph
