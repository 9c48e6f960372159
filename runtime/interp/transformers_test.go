package interp

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// transformerModels are torchvision's ViT and ConvNeXt, tiny, exported at
// opset 17 with LayerNormalization nodes (testdata/make_transformers.py).
var transformerModels = []string{"vit_tiny", "convnext_tiny"}

// TestTransformersForward compares the logits with PyTorch's on the
// committed inputs (transformers_ort_test.go compares them with ONNX
// Runtime's).
func TestTransformersForward(t *testing.T) {
	for _, name := range transformerModels {
		p := loadProgram(t, name)
		if p.Graph.Opset != 17 {
			t.Errorf("%s: opset %d, want 17", name, p.Graph.Opset)
		}
		if p.Graph.OpHistogram()["LayerNormalization"] == 0 {
			t.Errorf("%s: no LayerNormalization node", name)
		}
		comparePyTorch(t, name, p)
	}
}

// TestTransformersInputGradient checks the input gradient of the loss
// against central differences at random pixels. These models are smooth
// (GELU, LayerNorm, Softmax: no kinks), so every coordinate counts.
func TestTransformersInputGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, name := range transformerModels {
		p := loadProgram(t, name)
		x := readNpy(t, filepath.Join(modelDir, name+".input.npy"))
		labels := []int{3, 1, 4, 1}
		_, grad, err := p.LossGrad(x, labels)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		scale := 0.0
		for _, g := range grad.Data {
			scale = math.Max(scale, math.Abs(float64(g)))
		}
		if scale == 0 {
			t.Fatalf("%s: the input gradient is zero", name)
		}
		for k := 0; k < 12; k++ {
			j := rng.IntN(len(x.Data))
			x0 := x.Data[j]
			fine := fd.Derivative(func(v float64) float64 {
				x.Data[j] = float32(v)
				loss, _, err := p.LossGrad(x, labels)
				x.Data[j] = x0
				if err != nil {
					t.Fatal(err)
				}
				return loss
			}, float64(x0), &fd.Settings{Formula: fd.Central, Step: 1e-2})
			if d := math.Abs(float64(grad.Data[j]) - fine); d > 2e-3*scale+0.05*math.Abs(fine) {
				t.Errorf("%s: dL/dx[%d] = %.5g, finite differences %.5g (largest |dL/dx| %.3g)", name, j, grad.Data[j], fine, scale)
			}
		}
	}
}
