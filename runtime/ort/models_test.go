//go:build cgo

package ort

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testfiles"
	onnxruntime "github.com/onnxguard/onnxguard/runtime"
)

// Whole models from the repository's testdata, exported by PyTorch, against
// PyTorch's own outputs.
const models = "../../testdata/models"

func needFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not there (testdata/make_models.py writes it): %v", path, err)
	}
}

func readNpy(t *testing.T, path string) ([]float32, []int) { return testfiles.ReadNpy(t, path) }

func TestPyTorchReferences(t *testing.T) {
	needORT(t)
	for _, name := range []string{"resblock", "mobile", "normalized", "dropout", "opset7_mlp"} {
		path := filepath.Join(models, name+".onnx")
		needFile(t, path)
		x, xShape := readNpy(t, filepath.Join(models, name+".input.npy"))
		want, wantShape := readNpy(t, filepath.Join(models, name+".output.npy"))
		s := openModel(t, path, cpuOpts())
		got, shape, err := s.Run(nil, x, xShape[0])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !slices.Equal(shape, []int64{int64(wantShape[0]), int64(wantShape[1])}) || !close32(got, want, 1e-5) {
			t.Errorf("%s: ONNX Runtime gave %v %v; PyTorch %v %v", name, shape, got, wantShape, want)
		}
	}
}

// TestFashionMNIST runs the trained CNN on the committed slice, whole, and its
// fixed-batch-1, 0..255-pixel export one image at a time.
func TestFashionMNIST(t *testing.T) {
	needORT(t)
	dynPath, b1Path := filepath.Join(models, "fmnist_cnn.onnx"), filepath.Join(models, "fmnist_cnn_b1_255.onnx")
	needFile(t, dynPath)
	needFile(t, b1Path)
	const n = 1000
	x, _ := testfiles.FashionSlice(t, n)
	raw := make([]float32, len(x))
	for i, v := range x {
		raw[i] = float32(math.Round(float64(v) * 255))
	}
	dyn := openModel(t, dynPath, cpuOpts())
	b1 := openModel(t, b1Path, cpuOpts())
	got, shape, err := dyn.Run(nil, x, n)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readNpy(t, filepath.Join(models, "fmnist_cnn.slice1000.logits.npy"))
	if !slices.Equal(shape, []int64{n, 10}) || !close32(got, want, 1e-4) {
		t.Errorf("fmnist_cnn on the slice: shape %v, max |ORT−PyTorch| %g; want [1000 10], within 1e-4", shape, maxDiff(got, want))
	}
	got255, shape255, err := b1.Run(nil, raw, n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape255, shape) || !close32(got255, got, 1e-5) {
		t.Errorf("fmnist_cnn_b1_255 on raw pixels: shape %v, max |diff| %g from fmnist_cnn; want the same logits", shape255, maxDiff(got255, got))
	}
}

// TestFashionMNISTRandom is the same comparison on random images.
func TestFashionMNISTRandom(t *testing.T) {
	needORT(t)
	dynPath, b1Path := filepath.Join(models, "fmnist_cnn.onnx"), filepath.Join(models, "fmnist_cnn_b1_255.onnx")
	needFile(t, dynPath)
	needFile(t, b1Path)
	dyn := openModel(t, dynPath, cpuOpts())
	b1 := openModel(t, b1Path, cpuOpts())
	const n = 7
	rng := rand.New(rand.NewPCG(1, 2))
	x, x255 := make([]float32, n*28*28), make([]float32, n*28*28)
	for i := range x {
		x[i] = rng.Float32()
		x255[i] = x[i] * 255
	}
	a, _, err := dyn.Run(nil, x, n)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := b1.Run(nil, x255, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if ga, gb := onnxruntime.Argmax(a[i*10:(i+1)*10]), onnxruntime.Argmax(b[i*10:(i+1)*10]); ga != gb {
			t.Errorf("random image %d: fmnist_cnn says class %d, fmnist_cnn_b1_255 on x·255 says %d", i, ga, gb)
		}
	}
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
