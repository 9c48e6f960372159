// Package gradengine gives attacks and training one gradient source per
// model, chosen between onnxguard's interpreter and a gradient graph run
// on ONNX Runtime (package gradgraph).
//
// Open takes the compiled interpreter program and a Kind: Interp keeps
// every gradient on the interpreter; ORT opens the model's gradient graph
// in ONNX Runtime; Auto asks Prefer, a rule on the model's structure (see
// its comment for the figures behind it), and falls back to the
// interpreter, saying why, when ONNX Runtime or the graph is not there.
// The Engine it returns has the methods attacks consume (fgsm.Gradients)
// and sends each gradient pass to the graph only where the graph computes
// it: the mean softmax cross-entropy, in inference mode, with weight
// gradients only from a graph built with them. Custom losses (AutoAttack's
// DLR, FAB's logit differences, TRADES's KL), training-mode passes and
// inference (Run) stay on the interpreter, which remains the reference,
// but for an engine opened with Train (below).
//
// Opened with Options.Train, an Engine is a harden.Trainable: its graph
// reads the program's weights as inputs on every run (the optimizer
// updates them in place), so training's gradient passes run on the graph
// too, where the training mode computes what inference does (no Dropout
// or BatchNormalization in training mode; the exported ResNets,
// MobileNets, EfficientNets, ConvNeXts and ViTs have neither), and so does
// its inference (Run), on the weights as training leaves them. harden
// trains on such an Engine and measures the original and the exported
// model each on an Engine of its own.
package gradengine
