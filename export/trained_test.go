//go:build cgo

package export

import (
	"context"
	"github.com/onnxguard/onnxguard/internal/testort"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// TestExportAfterHardening trains models with BatchNorm (under both
// policies), Dropout and a residual connection for an epoch of the paper
// recipe, writes the result and checks it on ONNX Runtime.
func TestExportAfterHardening(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		model, bn string
	}{
		{"resblock.onnx", harden.BNTrain},
		{"resblock.onnx", harden.BNFrozen},
		{"dropout.onnx", harden.BNTrain},
	} {
		m, err := onnx.Load(testfiles.Path("models", test.model))
		if err != nil {
			t.Fatal(err)
		}
		p, err := interp.Compile(m, &interp.Options{Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		s := p.Input.Shape
		c, h, w := int(s[1]), int(s[2]), int(s[3])
		n := 96
		rng := rand.New(rand.NewPCG(1, 2))
		d := &harden.Data{X: make([]float32, n*c*h*w), Labels: make([]int, n), N: n, C: c, H: h, W: w}
		for i := range d.X {
			d.X[i] = rng.Float32()
		}
		for i := range d.Labels {
			d.Labels[i] = rng.IntN(10)
		}
		res, err := harden.Train(context.Background(), p, dataset.Preprocess{}, d, nil,
			harden.Config{Recipe: harden.Paper, Eps: 0.05, Epochs: 1, Batch: 16, BN: test.bn, Seed: 1}, nil)
		if err != nil {
			t.Fatalf("%s, bn %s: %v", test.model, test.bn, err)
		}
		out := filepath.Join(t.TempDir(), test.model)
		if err := Write(out, m, res.Weights, nil); err != nil {
			t.Fatal(err)
		}
		x := &interp.Tensor{Shape: []int{16, c, h, w}, Data: d.X[:16*c*h*w]}
		rel, err := Verify(out, p, x, 1e-4, cpu)
		if err != nil {
			t.Errorf("%s, bn %s: %v", test.model, test.bn, err)
		}
		t.Logf("%s, bn %s: ONNX Runtime within %.2g of the interpreter", test.model, test.bn, rel)
	}
}
