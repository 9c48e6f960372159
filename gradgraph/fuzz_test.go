package gradgraph

import (
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/mutate"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// fuzzModels are the small models of testdata/ the builder's fuzzers
// start from: convolutions, pooling, residual sums, BatchNorm, Dropout,
// LayerNorm and GELU as PyTorch exports them, attention's Slices, QDQ.
var fuzzModels = []string{"fmnist_cnn", "resblock", "mobile", "normalized", "dropout", "convnext_tiny", "vit_tiny", "fmnist_cnn_qdq"}

// fuzzBudget keeps a fuzzed model's compile small.
const fuzzBudget = 64 << 20

// checkBuilds compiles m as gradengine does and builds its gradient graph,
// with weight gradients and without, on the program's shapes: a model the
// builder cannot take must give a one-line error, never a panic (a model
// file is untrusted input, and --grad-engine auto builds the graph of
// whatever it is given).
func checkBuilds(t *testing.T, m *onnx.Model) {
	if err := buildErr(m); err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("a multi-line error: %q", err)
	}
}

// buildErr is checkBuilds' work: the first error building m's graph, with
// weight gradients and without, and writing its blocked forms, or nil
// (also where m does not compile).
func buildErr(m *onnx.Model) error {
	p, err := interp.Compile(m, &interp.Options{Seed: 1, MaxMemory: fuzzBudget})
	if err != nil {
		return nil
	}
	for _, weights := range []bool{false, true} {
		g, err := Build(m, &Options{Weights: weights, Program: p})
		if err != nil {
			return err
		}
		// The blocked forms at both block sizes MLAS uses, as an engine
		// opening the graph on a CPU writes one of them.
		for _, block := range []int{8, 16} {
			if _, _, err := g.Blocked(block); err != nil {
				return err
			}
		}
	}
	return nil
}

// FuzzBuild builds the gradient graph of arbitrary bytes read as a model,
// starting from the real models.
func FuzzBuild(f *testing.F) { testfiles.FuzzModelBytes(f, fuzzModels, checkBuilds) }

// FuzzBuildAttr sets one integer attribute of a real model to an
// arbitrary value and builds the result's gradient graph: the byte-level
// fuzzer rarely keeps a protobuf valid while it changes a value, and the
// pattern rules (LayerNorm and GELU chains, Slice tiles, gates) read
// attributes the compile accepts.
func FuzzBuildAttr(f *testing.F) {
	var subjects []mutate.Subject
	for _, name := range fuzzModels {
		m, err := onnx.Load(testfiles.Path("models", name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		if s, ok := mutate.NewSubject(m); ok {
			subjects = append(subjects, s)
		}
	}
	mutate.Seed(f, subjects, 7)
	f.Fuzz(func(t *testing.T, which, index uint16, value int64) {
		_, m, mu := mutate.Pick(subjects, which, index, value)
		if err := buildErr(m); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("%v: a multi-line error: %q", mu, err)
		}
	})
}
