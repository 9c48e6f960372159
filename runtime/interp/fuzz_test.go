package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/mutate"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
)

// fuzzModels are the small real models the compile fuzzers start from.
var fuzzModels = []string{"dropout", "normalized", "opset7_mlp", "resblock", "mobile"}

// fuzzBudget keeps a fuzzed model's tensors small, so that the fuzzer
// finds crashes rather than spends its time on large allocations.
const fuzzBudget = 64 << 20

// checkCompiles compiles m within fuzzBudget and, where that succeeds,
// runs a batch of one forward and backward; it fails t on a multi-line
// error. A panic fails the fuzzer by itself, and `go test -fuzz` reports
// a hang.
func checkCompiles(t *testing.T, m *onnx.Model) {
	if err := compileRunBudget(m, fuzzBudget); err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("a multi-line error: %q", err)
	}
}

// FuzzCompile compiles and runs arbitrary bytes as a model, starting
// from real models: every failure must be an error.
func FuzzCompile(f *testing.F) {
	testfiles.AddModelSeeds(f, fuzzModels...)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Parse(data, dir)
		if err != nil {
			return
		}
		checkCompiles(t, m)
	})
}

// attrSubject is a model whose integer attributes FuzzCompileAttr sets,
// and how a mutated copy is run.
type attrSubject struct {
	m    *onnx.Model
	muts []mutate.Attr
	run  func(*onnx.Model) error
}

// attrSubjects are the small real models, compiled and run on a batch of
// one, and the ONNX node test models the interpreter supports, run on
// their test inputs.
func attrSubjects(f *testing.F) []attrSubject {
	var subjects []attrSubject
	for _, name := range fuzzModels {
		m, err := onnx.Load(filepath.Join(modelDir, name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		subjects = append(subjects, attrSubject{m, mutate.Attrs(m.Proto), compileAndRun})
	}
	dirs, _ := os.ReadDir(nodeTestDir) // absent: the real models alone
	for _, d := range dirs {
		dir := filepath.Join(nodeTestDir, d.Name())
		m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
		if err != nil || !allSupported(m) {
			continue
		}
		if muts := mutate.Attrs(m.Proto); len(muts) > 0 {
			data := filepath.Join(dir, "test_data_set_0")
			subjects = append(subjects, attrSubject{m, muts, func(m *onnx.Model) error { return runMutatedNodeTest(m, data) }})
		}
	}
	return subjects
}

// FuzzCompileAttr sets one integer attribute value of a model to an
// arbitrary value (subject and index pick model, node, attribute and
// element) and compiles and runs the result: the byte-level fuzzer rarely
// keeps a protobuf valid while it changes a value, this one always does,
// and through the node tests it reaches every operator.
func FuzzCompileAttr(f *testing.F) {
	subjects := attrSubjects(f)
	for i, s := range subjects {
		for j := 0; j < len(s.muts); j += 5 {
			f.Add(uint16(i), uint16(j), s.muts[j].Value)
		}
	}
	f.Fuzz(func(t *testing.T, subject, index uint16, value int64) {
		s := subjects[int(subject)%len(subjects)]
		mu := s.muts[int(index)%len(s.muts)]
		mu.Value = value
		err := s.run(&onnx.Model{Proto: mu.Apply(s.m.Proto), Dir: s.m.Dir})
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("%v: a multi-line error: %q", mu, err)
		}
	})
}
