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
	p, err := interp.Compile(m, &interp.Options{Seed: 1, MaxMemory: fuzzBudget})
	if err != nil {
		return
	}
	for _, weights := range []bool{false, true} {
		if _, err := Build(m, &Options{Weights: weights, Program: p}); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("a multi-line error: %q", err)
		}
	}
}

// FuzzBuild builds the gradient graph of arbitrary bytes read as a model,
// starting from the real models.
func FuzzBuild(f *testing.F) {
	testfiles.AddModelSeeds(f, fuzzModels...)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Parse(data, dir)
		if err != nil {
			return
		}
		checkBuilds(t, m)
	})
}

// FuzzBuildAttr sets one integer attribute of a real model to an
// arbitrary value and builds the result's gradient graph: the byte-level
// fuzzer rarely keeps a protobuf valid while it changes a value, and the
// pattern rules (LayerNorm and GELU chains, Slice tiles, gates) read
// attributes the compile accepts.
func FuzzBuildAttr(f *testing.F) {
	type subject struct {
		m    *onnx.Model
		muts []mutate.Attr
	}
	var subjects []subject
	for _, name := range fuzzModels {
		m, err := onnx.Load(testfiles.Path("models", name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		if muts := mutate.Attrs(m.Proto); len(muts) > 0 {
			subjects = append(subjects, subject{m, muts})
		}
	}
	for i, s := range subjects {
		for j := 0; j < len(s.muts); j += 7 {
			f.Add(uint16(i), uint16(j), s.muts[j].Value)
		}
	}
	f.Fuzz(func(t *testing.T, which, index uint16, value int64) {
		s := subjects[int(which)%len(subjects)]
		mu := s.muts[int(index)%len(s.muts)]
		mu.Value = value
		checkBuilds(t, &onnx.Model{Proto: mu.Apply(s.m.Proto), Dir: s.m.Dir})
	})
}
