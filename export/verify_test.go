//go:build cgo

package export

import (
	"errors"
	"github.com/onnxguard/onnxguard/internal/testort"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

var cpu = &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU}

// batch returns a batch for a test model: its reference input, or the first
// Fashion-MNIST images, times scale.
func batch(t *testing.T, name string, n int, scale float32) *interp.Tensor {
	t.Helper()
	var x []float32
	var shape []int
	if strings.HasPrefix(name, "fmnist_cnn") {
		x, _ = testfiles.FashionSlice(t, n)
		shape = []int{n, 1, 28, 28}
	} else {
		x, shape = testfiles.ReadNpy(t, testfiles.Path("models", name+".input.npy"))
	}
	for i := range x {
		x[i] *= scale
	}
	return &interp.Tensor{Shape: shape, Data: x}
}

// TestVerifyAgrees writes each model with the values of its compiled
// Program, the dropout model's after training-mode steps, and checks that
// ONNX Runtime agrees with the interpreter on the file within 1e-4.
func TestVerifyAgrees(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	for _, test := range []struct {
		name  string
		scale float32
	}{
		{"resblock", 1}, {"dropout", 1}, {"fmnist_cnn", 1}, {"mobile", 1}, {"normalized", 1},
		{"fmnist_cnn_b1_255", 255}, // fixed batch 1: both sides run in chunks
	} {
		m := load(t, testfiles.Path("models", test.name+".onnx"))
		p := compile(t, m)
		x := batch(t, test.name, 24, test.scale)
		step := x // the training step: BatchNorm statistics move, Dropout masks are drawn
		if b := int(p.Input.Shape[0]); b > 0 {
			step = &interp.Tensor{Shape: append([]int{b}, x.Shape[1:]...), Data: x.Data[:b*x.Len()/x.Shape[0]]}
		}
		if _, err := p.RunMode(step, interp.Mode{Training: true}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, test.name+".onnx")
		if err := Write(out, m, Values(p), nil); err != nil {
			t.Fatal(err)
		}
		e, err := Verify(out, p, x, 1e-4, cpu)
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		t.Logf("%s: max relative error %.2g", test.name, e)
	}
}

// TestVerifyDetectsMismatch compares a file whose weights were changed with
// the program of the original weights.
func TestVerifyDetectsMismatch(t *testing.T) {
	testort.Need(t)
	m := load(t, testfiles.Path("models", "fmnist_cnn.onnx"))
	w := slices.Clone(decoded(t, m)["conv2.weight"])
	w[17] += 0.5
	out := filepath.Join(t.TempDir(), "changed.onnx")
	if err := Write(out, m, map[string][]float32{"conv2.weight": w}, nil); err != nil {
		t.Fatal(err)
	}
	e, err := Verify(out, compile(t, m), batch(t, "fmnist_cnn", 16, 1), 1e-4, cpu)
	if !errors.Is(err, ErrMismatch) || e <= 1e-4 {
		t.Errorf("a changed conv weight: error %.3g, %v; want above 1e-4 and ErrMismatch", e, err)
	}
	if err != nil && !strings.Contains(err.Error(), "sample") {
		t.Errorf("the mismatch error does not say where: %v", err)
	}
}

// TestWrittenWeightShowsInORT changes the last bias of the trained CNN and
// checks that ONNX Runtime's logits move by exactly that.
func TestWrittenWeightShowsInORT(t *testing.T) {
	testort.Need(t)
	src := testfiles.Path("models", "fmnist_cnn.onnx")
	m := load(t, src)
	bias := slices.Clone(decoded(t, m)["fc2.bias"])
	const class, delta = 7, -3
	bias[class] += delta
	out := filepath.Join(t.TempDir(), "changed.onnx")
	if err := Write(out, m, map[string][]float32{"fc2.bias": bias}, nil); err != nil {
		t.Fatal(err)
	}
	x := batch(t, "fmnist_cnn", 5, 1)
	run := func(path string) []float32 {
		s, err := ort.Open(path, cpu)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		y, _, err := s.Run(nil, x.Data, 5)
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	before, after := run(src), run(out)
	for i := range before {
		want := before[i]
		if i%10 == class {
			want += delta
		}
		if d := after[i] - want; math.Abs(float64(d)) > 1e-4 {
			t.Errorf("logit %d: %v after the write, want %v", i, after[i], want)
		}
	}
}

// TestVerifyExternalAndHalf runs the external-data and float16 models that
// Write produced through ONNX Runtime.
func TestVerifyExternalAndHalf(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	x := &interp.Tensor{Shape: []int{3, 4}, Data: []float32{1, 2, 3, 4, -1, 0.5, 0, 2, 0.25, -3, 1, 1}}
	ext := load(t, externalModel(t, t.TempDir(), "model.onnx", "weights.bin"))
	half := parse(t, floatModel(onnx.TensorProto_FLOAT16, true, testW, testB), "")
	halfTyped := parse(t, floatModel(onnx.TensorProto_FLOAT16, false, testW, testB), "")
	for name, m := range map[string]*onnx.Model{"external": ext, "float16": half, "float16 typed": halfTyped} {
		out := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".onnx")
		if err := Write(out, m, map[string][]float32{"W": newW}, nil); err != nil {
			t.Fatal(err)
		}
		p := compile(t, load(t, out))
		if e, err := Verify(out, p, x, 1e-4, cpu); err != nil {
			t.Errorf("%s: %v", name, err)
		} else {
			t.Logf("%s: max relative error %.2g", name, e)
		}
	}
}
