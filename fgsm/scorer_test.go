package fgsm

import (
	"math"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

func maxDiff(t *testing.T, what string, a, b []float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d and %d logits", what, len(a), len(b))
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// The model that divides by 255 inside, fixed batch 1, scored through an
// engine with Scale 255, gives the logits of the [0,1] model.
func TestEngineScorerInterp(t *testing.T) {
	x, _ := testfiles.FashionSlice(t, 5)
	want, err := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{}).Score(nil, x, 5)
	if err != nil {
		t.Fatal(err)
	}
	raw := loadModel(t, "fmnist_cnn_b1_255.onnx", dataset.Preprocess{})
	s := EngineScorer(interp.Engine{P: raw.G.(*interp.Program)}, dataset.Preprocess{Scale: 255}, 1, 28, 28, 10)
	got, err := s(nil, x, 5)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, "interp", got, want); d > 1e-4 {
		t.Errorf("the fixed-batch 0..255 model through EngineScorer differs from the [0,1] model by %g", d)
	}
	if _, err := EngineScorer(interp.Engine{P: raw.G.(*interp.Program)}, dataset.Preprocess{Scale: 255}, 1, 28, 28, 7)(nil, x, 5); err == nil {
		t.Errorf("EngineScorer expecting 7 classes accepted a 10-class model")
	}
	if _, err := s(nil, x[:700], 1); err == nil {
		t.Errorf("EngineScorer accepted 700 pixels as one 28×28 sample")
	}
}
