package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/mutate"
	"github.com/onnxguard/onnxguard/onnx"
)

// fuzzModels are the small real models the compile fuzzers start from.
var fuzzModels = []string{"dropout", "normalized", "opset7_mlp", "resblock", "mobile"}

// fuzzBudget keeps a fuzzed model's tensors small, so that the fuzzer
// finds crashes rather than spends its time on large allocations.
const fuzzBudget = 64 << 20

// checkCompiles compiles m within fuzzBudget and, where that succeeds,
// runs a batch of one; it fails t on a multi-line error. A panic fails
// the fuzzer by itself, and `go test -fuzz` reports a hang.
func checkCompiles(t *testing.T, m *onnx.Model) {
	p, err := Compile(m, &Options{Seed: 1, MaxMemory: fuzzBudget})
	if err == nil {
		shape, _, serr := p.inputShape(1)
		if serr != nil {
			t.Fatalf("compiled, but the input shape is refused: %v", serr)
		}
		x := &Tensor{Shape: shape, Data: make([]float32, numel(shape))}
		_, err = p.Run(x)
	}
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("a multi-line error: %q", err)
	}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// FuzzCompile compiles and runs arbitrary bytes as a model, starting
// from real models: every failure must be an error.
func FuzzCompile(f *testing.F) {
	for _, name := range fuzzModels {
		data, err := os.ReadFile(filepath.Join(modelDir, name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Parse(data, dir)
		if err != nil {
			return
		}
		checkCompiles(t, m)
	})
}

// FuzzCompileAttr sets one integer attribute value of a real model to an
// arbitrary value (the mutation index picks node, attribute and element)
// and compiles and runs the result: the byte-level fuzzer rarely keeps a
// protobuf valid while it changes a value, this one always does.
func FuzzCompileAttr(f *testing.F) {
	var models []*onnx.Model
	var muts [][]mutate.Attr
	for _, name := range fuzzModels {
		m, err := onnx.Load(filepath.Join(modelDir, name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		models = append(models, m)
		muts = append(muts, mutate.Attrs(m.Proto))
	}
	for i := range models {
		for j := 0; j < len(muts[i]); j += 7 {
			f.Add(uint8(i), uint16(j), muts[i][j].Value)
		}
	}
	f.Fuzz(func(t *testing.T, model uint8, index uint16, value int64) {
		i := int(model) % len(models)
		mu := muts[i][int(index)%len(muts[i])]
		mu.Value = value
		checkCompiles(t, &onnx.Model{Proto: mu.Apply(models[i].Proto), Dir: models[i].Dir})
	})
}
