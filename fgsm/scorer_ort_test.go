//go:build cgo

package fgsm

import (
	"errors"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

func openORT(t *testing.T, name string) *ort.Session {
	t.Helper()
	testort.Need(t)
	s, err := ort.Open(testfiles.Path("models", name), &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ONNX Runtime through EngineScorer agrees with the interpreter, and Square
// on it lowers the accuracy.
func TestEngineScorerORT(t *testing.T) {
	sess := openORT(t, "fmnist_cnn.onnx")
	score := EngineScorer(sess, dataset.Preprocess{}, 1, 28, 28, 10)
	x, labels := testfiles.FashionSlice(t, 16)
	got, err := score(nil, x, 16)
	if err != nil {
		t.Fatal(err)
	}
	want, err := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{}).Score(nil, x, 16)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, "ort", got, want); d > 1e-3 {
		t.Errorf("ONNX Runtime's logits differ from the interpreter's by %g", d)
	}
	squareLowers(t, score, x, labels, 0.1, 300)
}

// squareLowers runs Square with no Attacker at ε L∞ and fails unless it
// breaks at least half the samples the model gets right.
func squareLowers(t *testing.T, score Scorer, x []float32, labels []int, eps float64, iters int) {
	t.Helper()
	idx := indices(0, len(labels))
	env := &StageEnv{Score: score, Classes: 10, C: 1, H: 28, W: 28, Norm: Linf, Eps: eps, Seed: 3, Iters: iters}
	res := runSquare(t, "square", env, x, labels, idx)
	checkBall(t, "square", Linf, eps, x, res.Adv, 784)
	before, after := scoreAccuracy(t, score, x, labels), scoreAccuracy(t, score, res.Adv, labels)
	t.Logf("ε %g, %d queries: accuracy %d/%d → %d/%d", eps, iters, before, len(labels), after, len(labels))
	if after > before/2 {
		t.Errorf("Square left %d of %d samples robust (%d clean)", after, len(labels), before)
	}
}

// A model with an operator only ONNX Runtime has (com.microsoft
// FusedMatMul, testdata/make_blackbox_model.py): the interpreter refuses
// it, and Square audits it on ONNX Runtime alone.
func TestSquareBlackBoxOnly(t *testing.T) {
	m, err := onnx.Load(testfiles.Path("models", "fmnist_fusedmatmul.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := interp.Compile(m, nil); !errors.Is(err, interp.ErrUnsupported) {
		t.Fatalf("the interpreter compiled the FusedMatMul model (error %v); the test needs a model it refuses", err)
	}
	score := EngineScorer(openORT(t, "fmnist_fusedmatmul.onnx"), dataset.Preprocess{}, 1, 28, 28, 10)
	x, labels := testfiles.FashionSlice(t, 24)
	squareLowers(t, score, x, labels, 0.1, 1000)
}

func BenchmarkSquareORTFashion(b *testing.B) {
	testort.Need(b)
	s, err := ort.Open(testfiles.Path("models", "fmnist_cnn.onnx"), &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchmarkSquare(b, EngineScorer(s, dataset.Preprocess{}, 1, 28, 28, 10))
}

func init() {
	deployedScorer = func(b *testing.B, model string, m *Model) Scorer {
		testort.Need(b)
		s, err := ort.Open(testfiles.Path("models", model+".onnx"), &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return EngineScorer(s, m.Pre, m.C, m.H, m.W, 0)
	}
}
