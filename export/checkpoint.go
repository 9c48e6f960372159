package export

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// DefaultTolerance is the largest relative difference FromCheckpoint and
// VerifyPixels allow by default between ONNX Runtime on a written file and
// the interpreter on the weights written.
const DefaultTolerance = 1e-4

// SourceKey is the metadata_props key under which FromCheckpoint records
// the sha256 of the model the weights were written into.
const SourceKey = "onnxguard.source_sha256"

// ErrWrongModel is returned, wrapped, when a checkpoint was trained from a
// model other than the one given to write it into.
var ErrWrongModel = errors.New("the checkpoint was trained from a model")

// Checkpoint is what FromCheckpoint needs of a training checkpoint
// (harden.Checkpoint.Export makes one).
type Checkpoint struct {
	Weights  map[string][]float32 // the values to write, by initializer name
	Metadata map[string]string    // metadata_props to set; SourceKey is filled in
	Pre      dataset.Preprocess   // between pixels and the model's input
	Seed     uint64               // seed of the random pixels the check runs on
	// SourceSHA256 is the digest of the model the run started from; ""
	// accepts any model.
	SourceSHA256 string
}

// CheckpointOptions tune FromCheckpoint; nil means defaults.
type CheckpointOptions struct {
	// Compile compiles the model for the interpreter's side of the check;
	// its MaxMemory is also ONNX Runtime's budget.
	Compile interp.Options
	// ORT configures the ONNX Runtime session of the check; its MaxMemory
	// is replaced by Compile's.
	ORT ort.Options
	// Tolerance is the largest relative difference accepted; 0 means
	// DefaultTolerance.
	Tolerance float64
}

// FromCheckpoint writes ck's weights into the model at modelPath and writes
// the result to out, then checks it on ONNX Runtime against the
// interpreter running the same weights, on a batch of random pixels drawn
// from ck.Seed (the model's fixed batch, else 16 samples). It returns the
// largest relative difference found; an error wrapping ErrWrongModel when
// the model is not the one the checkpoint was trained from, and one
// wrapping ErrMismatch when the written file disagrees.
func FromCheckpoint(ck *Checkpoint, modelPath, out string, opt *CheckpointOptions) (float64, error) {
	if opt == nil {
		opt = &CheckpointOptions{}
	}
	model, err := onnx.Load(modelPath)
	if err != nil {
		return 0, err
	}
	sum, err := model.SHA256()
	if err != nil {
		return 0, err
	}
	if ck.SourceSHA256 != "" && ck.SourceSHA256 != sum {
		return 0, fmt.Errorf("%w with sha256 %.12s…, not %s (%.12s…); pass the model the run started from", ErrWrongModel, ck.SourceSHA256, modelPath, sum)
	}
	compile := opt.Compile
	prog, err := interp.Compile(model, &compile)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", modelPath, err)
	}
	for _, p := range prog.Params() {
		if w, ok := ck.Weights[p.Name]; ok {
			copy(p.T.Data, w)
		}
	}
	meta := map[string]string{SourceKey: sum}
	for k, v := range ck.Metadata {
		if k != SourceKey {
			meta[k] = v
		}
	}
	if err := Write(out, model, ck.Weights, &Options{Metadata: meta}); err != nil {
		return 0, err
	}
	n, per := randomBatch(prog.Input.Shape)
	rng := rand.New(rand.NewPCG(ck.Seed, 0))
	x := make([]float32, n*per)
	for i := range x {
		x[i] = rng.Float32()
	}
	ortOpt := opt.ORT
	ortOpt.MaxMemory = opt.Compile.MaxMemory
	return VerifyPixels(out, prog, ck.Pre, x, n, opt.Tolerance, &ortOpt)
}

// randomBatch is the number of samples FromCheckpoint checks a model with
// input shape s on (its fixed batch, else 16) and the values per sample.
func randomBatch(s []int64) (n, per int) {
	per = 1
	for _, d := range s[1:] {
		per *= int(d)
	}
	n = 16
	if s[0] > 0 {
		n = int(s[0])
	}
	return n, per
}

// VerifyPixels is Verify on the first n samples of the pixels x (N×C×H×W
// in [0,1]), turned into the model's input by pre; tol 0 means
// DefaultTolerance. A disagreement says that path was written.
func VerifyPixels(path string, prog *interp.Program, pre dataset.Preprocess, x []float32, n int, tol float64, ortOpt *ort.Options) (float64, error) {
	if tol == 0 {
		tol = DefaultTolerance
	}
	d := pre.Layout.SampleDims(prog.Input.Shape)
	if d == nil {
		return 0, fmt.Errorf("%s: input %q has shape %v; want an image input", path, prog.Input.Name, prog.Input.Shape)
	}
	c, h, w := int(d[0]), int(d[1]), int(d[2])
	in := pre.Apply(nil, x[:n*c*h*w], c, h*w)
	maxRel, err := Verify(path, prog, &interp.Tensor{Shape: pre.Layout.Shape(n, c, h, w), Data: in}, tol, ortOpt)
	if err != nil {
		return maxRel, fmt.Errorf("%s was written but does not agree with the interpreter: %w", path, err)
	}
	return maxRel, nil
}
