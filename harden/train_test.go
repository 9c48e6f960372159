package harden

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

func compile(t testing.TB, name string) *interp.Program {
	t.Helper()
	return compileFile(t, testfiles.Path("models", name+".onnx"))
}

func compileFile(t testing.TB, file string) *interp.Program {
	t.Helper()
	m, err := onnx.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, &interp.Options{Seed: 1})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return p
}

// fashion reads samples [lo, lo+n) of the committed Fashion-MNIST slice.
func fashion(t testing.TB, lo, n int) *Data {
	t.Helper()
	src, err := dataset.Open(testfiles.Path("fashion", "t10k-images-1000-idx3-ubyte.gz"), &dataset.Options{Limit: lo + n})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d, err := ReadAll(src)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = lo + i
	}
	return d.Subset(idx)
}

// random returns n samples of c×h×w uniform pixels with labels that
// depend on the mean of the first row, so there is something to learn.
func random(n, c, h, w int, seed uint64) *Data {
	g := rand.New(rand.NewPCG(seed, 0))
	d := &Data{N: n, C: c, H: h, W: w, X: make([]float32, n*c*h*w), Labels: make([]int, n)}
	for i := range d.X {
		d.X[i] = g.Float32()
	}
	per := c * h * w
	for i := range n {
		var s float32
		for _, v := range d.X[i*per : i*per+w] {
			s += v
		}
		d.Labels[i] = min(int(s/float32(w)*10), 9)
	}
	return d
}

func paramValues(p *interp.Program) map[string][]float32 {
	m := map[string][]float32{}
	for _, prm := range p.Params() {
		m[prm.Name] = append([]float32(nil), prm.T.Data...)
	}
	return m
}

// TestPaperRecipeRaisesRobustness fine-tunes the PyTorch-trained CNN with
// the seed paper's Algorithm 2 on 500 real Fashion-MNIST images for one
// epoch and checks that FGSM accuracy at ε = 0.1 on 300 others rises well
// above the starting model's.
func TestPaperRecipeRaisesRobustness(t *testing.T) {
	prog := compile(t, "fmnist_cnn")
	train, val := fashion(t, 0, 500), fashion(t, 500, 300)
	dir := t.TempDir()
	steps := 0
	res, err := Train(context.Background(), prog, dataset.Preprocess{}, train, val,
		Config{Recipe: Paper, Eps: 0.1, Epochs: 1, Batch: 32, Seed: 1, CheckpointDir: dir},
		func(p Progress) {
			if p.Phase == "train" {
				steps++
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	before, after := res.History[0], res.History[1]
	t.Logf("before: clean %.3f fgsm %.3f; after 1 epoch: clean %.3f fgsm %.3f, train loss %.3f, %.0f samples/s",
		before.ValClean, before.ValFGSM, after.ValClean, after.ValFGSM, after.TrainLoss, after.SamplesPerSec)
	if after.ValFGSM < before.ValFGSM+0.15 {
		t.Errorf("FGSM accuracy went from %.3f to %.3f; want a rise of at least 0.15", before.ValFGSM, after.ValFGSM)
	}
	if after.ValClean < 0.6 {
		t.Errorf("clean accuracy fell to %.3f", after.ValClean)
	}
	if res.BestEpoch != 1 || steps != 16 {
		t.Errorf("best epoch %d after %d steps; want 1 after 16", res.BestEpoch, steps)
	}
	if _, err := os.Stat(filepath.Join(dir, HistoryFile)); err != nil {
		t.Error(err)
	}
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Epoch != 1 || ck.BestEpoch != 1 || !slices.Equal(ck.Best["fc2.weight"], res.Weights["fc2.weight"]) {
		t.Errorf("checkpoint: epoch %d, best %d; want the best weights of epoch 1", ck.Epoch, ck.BestEpoch)
	}
}

// TestFusedStep checks that the paper recipe's fused step (the clean
// half's gradients taken from the FGSM pass) updates the weights as the
// step on the whole 2B batch does, up to float rounding, with the same
// loss and count of correct examples; and that a model whose mode matters
// (BatchNorm in training mode) is not fused.
func TestFusedStep(t *testing.T) {
	data := random(24, 1, 28, 28, 3)
	// Plain SGD, whose update is the gradient itself, so that a wrongly
	// scaled gradient shows (Adam's first step would hide it).
	cfg := Config{Recipe: Paper, Eps: 0.1, Batch: 24, Seed: 1, LR: 0.1, Optimizer: SGD, Momentum: 0}
	var after [2][][]float32
	var loss [2]float64
	var correct, n [2]int
	for i, fuse := range []bool{true, false} {
		tr, err := newTrainer(compile(t, "fmnist_cnn"), dataset.Preprocess{}, data, nil, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.fuse {
			t.Fatal("the paper recipe on a model without BatchNorm or Dropout is not fused")
		}
		tr.fuse = fuse
		loss[i], correct[i], n[i], err = tr.trainStep(data.X, data.Labels, 9, cfg.LR)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range tr.data {
			after[i] = append(after[i], slices.Clone(d))
		}
	}
	if n[0] != 48 || n[1] != 48 || correct[0] != correct[1] {
		t.Errorf("fused step: %d of %d correct; unfused %d of %d", correct[0], n[0], correct[1], n[1])
	}
	if math.Abs(loss[0]-loss[1]) > 1e-5*math.Abs(loss[1]) {
		t.Errorf("fused step's loss %v, unfused %v", loss[0], loss[1])
	}
	start := compile(t, "fmnist_cnn").Params()
	for p := range after[0] {
		moved := 0.0 // the largest update of the parameter
		for j, w := range after[1][p] {
			moved = math.Max(moved, math.Abs(float64(w-start[p].T.Data[j])))
		}
		if moved == 0 {
			t.Fatalf("%s did not move", start[p].Name)
		}
		for j, v := range after[0][p] {
			w, was := after[1][p][j], start[p].T.Data[j]
			if d := math.Abs(float64(v - w)); d > 1e-3*moved+1e-6*math.Abs(float64(was)) {
				t.Fatalf("%s[%d]: fused %v, unfused %v (was %v; largest update %g)", start[p].Name, j, v, w, was, moved)
			}
		}
	}
	bn, err := newTrainer(compile(t, "resblock"), dataset.Preprocess{}, random(4, 3, 16, 16, 1), nil, Config{Recipe: Paper, Eps: 0.1, Batch: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bn.fuse {
		t.Error("a model with training-mode BatchNorm is fused")
	}
}
