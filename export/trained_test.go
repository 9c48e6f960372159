//go:build cgo

package export_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
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
		if err := export.Write(out, m, res.Weights, nil); err != nil {
			t.Fatal(err)
		}
		x := &interp.Tensor{Shape: []int{16, c, h, w}, Data: d.X[:16*c*h*w]}
		rel, err := export.Verify(out, p, x, 1e-4, &ort.Options{Device: ort.DeviceCPU})
		if err != nil {
			t.Errorf("%s, bn %s: %v", test.model, test.bn, err)
		}
		t.Logf("%s, bn %s: ONNX Runtime within %.2g of the interpreter", test.model, test.bn, rel)
	}
}

// TestFromCheckpoint writes a checkpoint's best epoch into its model and
// checks it on ONNX Runtime, with the run's provenance; a checkpoint of
// another model is refused with ErrWrongModel.
func TestFromCheckpoint(t *testing.T) {
	testort.Need(t)
	path := testfiles.Path("models", "dropout.onnx")
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := m.SHA256()
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, &interp.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 48
	d := &harden.Data{X: make([]float32, n*144), Labels: make([]int, n), N: n, C: 1, H: 12, W: 12}
	for i := range d.X {
		d.X[i] = rng.Float32()
	}
	for i := range d.Labels {
		d.Labels[i] = rng.IntN(10)
	}
	dir := t.TempDir()
	cfg := harden.Config{Recipe: harden.Paper, Eps: 0.05, Epochs: 1, Batch: 16, Seed: 1, ValSplit: 0.25, ModelSHA256: sum, CheckpointDir: dir}
	if _, err := harden.Train(context.Background(), p, dataset.Preprocess{}, d, nil, cfg, nil); err != nil {
		t.Fatal(err)
	}
	ck, err := harden.LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.onnx")
	rel, err := export.FromCheckpoint(ck.Export("test"), path, out, &export.CheckpointOptions{ORT: ort.Options{Device: ort.DeviceCPU}})
	if err != nil || rel > export.DefaultTolerance {
		t.Fatalf("FromCheckpoint: relative difference %g, %v; want at most %g", rel, err, export.DefaultTolerance)
	}
	written, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	md := map[string]string{}
	for _, kv := range written.Proto.GetMetadataProps() {
		md[kv.GetKey()] = kv.GetValue()
	}
	for k, want := range map[string]string{export.SourceKey: sum, "onnxguard.recipe": "paper", "onnxguard.epochs": "1", "onnxguard.version": "test"} {
		if md[k] != want {
			t.Errorf("metadata %s = %q, want %q", k, md[k], want)
		}
	}
	_, err = export.FromCheckpoint(ck.Export("test"), testfiles.Path("models", "resblock.onnx"), filepath.Join(t.TempDir(), "x.onnx"), nil)
	if !errors.Is(err, export.ErrWrongModel) {
		t.Errorf("FromCheckpoint into another model: %v; want ErrWrongModel", err)
	}
}
