package interp

import (
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// TestModeMatters checks that the executor finds the mode-dependent ops
// through the property they declare (ops.ModeDependent): a model with
// BatchNormalization or Dropout computes differently in training mode, a
// plain CNN does not.
func TestModeDependentProperty(t *testing.T) {
	for _, test := range []struct {
		model string
		want  bool
	}{
		{"resblock", true},
		{"dropout", true},
		{"bench_mnist", false},
		{"bench_cifar", false},
	} {
		m, err := onnx.Load(filepath.Join(modelDir, test.model+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.ModeMatters(Mode{Training: true}); got != test.want {
			t.Errorf("%s: ModeMatters %v, want %v", test.model, got, test.want)
		}
	}
}
