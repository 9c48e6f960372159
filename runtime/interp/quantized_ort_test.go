//go:build cgo

package interp_test

import (
	"github.com/onnxguard/onnxguard/runtime/interp"
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// quantizedModels are the Fashion-MNIST CNN quantized two ways
// (testdata/make_quantized.py), beside the float model they come from.
var quantizedModels = []string{"fmnist_cnn_qdq", "fmnist_cnn_qlinear"}

// ortLogits runs a model on ONNX Runtime.
func ortLogits(t *testing.T, name string, x []float32, n int) []float32 {
	t.Helper()
	s, err := ort.Open(filepath.Join(interp.ModelDir, name+".onnx"), &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU})
	if err != nil {
		t.Fatalf("%s: ONNX Runtime: %v", name, err)
	}
	defer s.Close()
	out, _, err := s.Run(nil, x, n)
	if err != nil {
		t.Fatalf("%s: ONNX Runtime: %v", name, err)
	}
	return out
}

func argmax10(logits []float32, i int) int {
	best := 0
	for k := 1; k < 10; k++ {
		if logits[i*10+k] > logits[i*10+best] {
			best = k
		}
	}
	return best
}

// TestQuantizedMatchORT: on the 1000 committed test images, the
// interpreter classifies every sample as ONNX Runtime does on both
// quantized models (the largest logit difference is logged: 0 for the
// QLinear form; ONNX Runtime fuses the QDQ form's pairs into integer
// kernels, which round in other places).
func TestQuantizedMatchORT(t *testing.T) {
	testort.Need(t)
	const n = 1000
	x, labels := testfiles.FashionSlice(t, n)
	for _, name := range quantizedModels {
		want := ortLogits(t, name, x, n)
		outs, err := interp.LoadProgram(t, name).Run(&interp.Tensor{Shape: []int{n, 1, 28, 28}, Data: x})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := outs[0].Data
		differ, correctORT, correct := 0, 0, 0
		worst := 0.0
		for i := 0; i < n; i++ {
			a, b := argmax10(got, i), argmax10(want, i)
			if a != b {
				differ++
			}
			if a == labels[i] {
				correct++
			}
			if b == labels[i] {
				correctORT++
			}
		}
		for i := range want {
			worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
		}
		if differ > 0 || correct != correctORT {
			t.Errorf("%s: %d of %d samples classified differently; accuracy %d (interpreter) vs %d (ONNX Runtime)", name, differ, n, correct, correctORT)
		}
		t.Logf("%s: accuracy %.2f%% on both; max |logit difference| %.3g", name, 100*float64(correct)/n, worst)
	}
}

// TestQuantizedFGSM crafts FGSM examples at ε = 0.1 with the interpreter's
// straight-through gradients on each quantized model and classifies them
// with ONNX Runtime on that model: the accuracy falls to within 5 points
// of what FGSM leaves of the float model.
func TestQuantizedFGSM(t *testing.T) {
	testort.Need(t)
	const n, eps = 1000, 0.1
	x, labels := testfiles.FashionSlice(t, n)
	fgsmAccuracy := func(name string) float64 {
		p := interp.LoadProgram(t, name)
		adv := make([]float32, len(x))
		const batch = 250
		for lo := 0; lo < n; lo += batch {
			xb := &interp.Tensor{Shape: []int{batch, 1, 28, 28}, Data: append([]float32(nil), x[lo*784:(lo+batch)*784]...)}
			_, g, err := p.LossGrad(xb, labels[lo:lo+batch])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for i, v := range xb.Data {
				step := float32(0)
				if g.Data[i] > 0 {
					step = eps
				} else if g.Data[i] < 0 {
					step = -eps
				}
				adv[lo*784+i] = min(max(v+step, 0), 1)
			}
		}
		logits := ortLogits(t, name, adv, n)
		correct := 0
		for i := 0; i < n; i++ {
			if argmax10(logits, i) == labels[i] {
				correct++
			}
		}
		return 100 * float64(correct) / n
	}
	float := fgsmAccuracy("fmnist_cnn")
	for _, name := range quantizedModels {
		q := fgsmAccuracy(name)
		t.Logf("FGSM ε=%.1f: %s %.2f%%, float fmnist_cnn %.2f%% (classified by ONNX Runtime)", eps, name, q, float)
		if math.Abs(q-float) > 5 {
			t.Errorf("%s: FGSM leaves %.2f%%, the float model %.2f%%: more than 5 points apart", name, q, float)
		}
	}
}
