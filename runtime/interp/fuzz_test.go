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
func FuzzCompile(f *testing.F) { testfiles.FuzzModelBytes(f, fuzzModels, checkCompiles) }

// attrSubjects are the small real models, compiled and run on a batch of
// one, and the ONNX node test models the interpreter supports, run on
// their test inputs.
// Each subject's run is the same index in the second result.
func attrSubjects(f *testing.F) ([]mutate.Subject, []func(*onnx.Model) error) {
	var subjects []mutate.Subject
	var runs []func(*onnx.Model) error
	for _, name := range fuzzModels {
		m, err := onnx.Load(filepath.Join(modelDir, name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		if s, ok := mutate.NewSubject(m); ok {
			subjects, runs = append(subjects, s), append(runs, compileAndRun)
		}
	}
	dirs, _ := os.ReadDir(nodeTestDir) // absent: the real models alone
	for _, d := range dirs {
		dir := filepath.Join(nodeTestDir, d.Name())
		m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
		if err != nil || !allSupported(m) {
			continue
		}
		if s, ok := mutate.NewSubject(m); ok {
			data := filepath.Join(dir, "test_data_set_0")
			subjects, runs = append(subjects, s), append(runs, func(m *onnx.Model) error { return runMutatedNodeTest(m, data) })
		}
	}
	return subjects, runs
}

// FuzzCompileAttr sets one integer attribute value of a model to an
// arbitrary value (subject and index pick model, node, attribute and
// element) and compiles and runs the result: the byte-level fuzzer rarely
// keeps a protobuf valid while it changes a value, this one always does,
// and through the node tests it reaches every operator.
func FuzzCompileAttr(f *testing.F) {
	subjects, runs := attrSubjects(f)
	mutate.Seed(f, subjects, 5)
	f.Fuzz(func(t *testing.T, subject, index uint16, value int64) {
		i, m, mu := mutate.Pick(subjects, subject, index, value)
		err := runs[i](m)
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("%v: a multi-line error: %q", mu, err)
		}
	})
}
