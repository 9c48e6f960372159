// Package export provides the last stage of hardening: it writes trained
// weights back into the ONNX model they came from, and checks that ONNX
// Runtime runs the result as the interpreter does.
//
// Write takes the loaded model and new values for some of its float
// initializers (Values turns an interpreter Program's parameters into them)
// and writes a copy in which only those tensors changed: the same names,
// shapes, data types and storage form, the same graph, opset, inputs and
// outputs. Tensors held in external data files are written to a new data
// file beside the new model, never over the source model's. Only graph
// initializers are written back; weights that an exporter folded into
// Constant nodes are not. Verify then loads the written file in ONNX Runtime
// and compares its outputs with the Program's on a batch; VerifyPixels does
// so on pixels, through the model's preprocessing.
//
// FromCheckpoint is the export of a training run after the fact: it takes
// what a checkpoint holds (a Checkpoint, which harden.Checkpoint.Export
// makes), refuses a model other than the one trained (ErrWrongModel),
// writes the weights with the run's provenance and checks the file on
// seeded random pixels. harden.Run uses Write and VerifyPixels the same way
// at the end of a hardening; export itself does not depend on harden.
package export
