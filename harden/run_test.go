package harden

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
)

// sameBits reports the first parameter where a and b differ in any bit.
func sameBits(a, b map[string][]float32) string {
	if len(a) != len(b) {
		return "parameter count"
	}
	for name, va := range a {
		vb := b[name]
		if len(va) != len(vb) {
			return name
		}
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				return name
			}
		}
	}
	return ""
}

// TestResumeIsBitExact runs three epochs in one go, and again interrupted
// after the first (by StopAfter, or by cancelling the context during the
// second) and resumed with a freshly compiled model: the final and best
// weights, optimizer included, must agree bit for bit. The cases cover
// Dropout masks, random starts, BatchNorm running statistics, both
// optimizers and the schedules.
func TestResumeIsBitExact(t *testing.T) {
	for _, test := range []struct {
		model     string
		data, val *Data
		cfg       Config
		cancel    bool
	}{
		{"dropout", random(48, 1, 12, 12, 1), random(24, 1, 12, 12, 2),
			Config{Recipe: PGD, Eps: 0.1, PGDSteps: 2, Batch: 16, Schedule: Cosine}, false},
		{"resblock", random(32, 3, 16, 16, 3), nil,
			Config{Recipe: Paper, Eps: 0.05, Batch: 8, Optimizer: SGD, WeightDecay: 1e-3, Schedule: Step, StepEvery: 1, ValSplit: 0.25}, true},
		{"dropout", random(48, 1, 12, 12, 4), random(24, 1, 12, 12, 5),
			Config{Recipe: FGSMRS, Eps: 0.1, Batch: 16, ProbeSteps: 2, BN: BNFrozen}, true},
		{"dropout", random(48, 1, 12, 12, 6), random(24, 1, 12, 12, 7),
			Config{Recipe: TRADES, Eps: 0.1, PGDSteps: 2, Batch: 16, ProbeSteps: 2}, true},
		{"resblock", random(32, 3, 16, 16, 8), nil,
			Config{Recipe: MART, Eps: 0.05, PGDSteps: 2, Beta: 3, Batch: 8, Optimizer: SGD, ValSplit: 0.25, ProbeSteps: 2}, false},
		{"dropout", random(48, 1, 12, 12, 10), random(24, 1, 12, 12, 11),
			Config{Recipe: TRADES, Eps: 0.1, PGDSteps: 2, Batch: 16, ProbeSteps: 2, AWP: true, AWPWarmup: 1}, true},
		{"resblock", random(32, 3, 16, 16, 12), nil,
			Config{Recipe: PGD, Eps: 0.05, PGDSteps: 2, Batch: 8, ValSplit: 0.25, ProbeSteps: 2, Probe: ProbePGD, AWP: true}, false},
	} {
		cfg := test.cfg
		cfg.Epochs, cfg.Seed = 3, 9
		name := test.model + "/" + string(cfg.Recipe)

		cfg.CheckpointDir = t.TempDir()
		whole, err := Train(context.Background(), compile(t, test.model), dataset.Preprocess{}, test.data, test.val, cfg, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wholeCk, err := LoadCheckpoint(cfg.CheckpointDir)
		if err != nil {
			t.Fatal(err)
		}

		cfg.CheckpointDir = t.TempDir()
		interrupt(t, name, test.model, test.data, test.val, cfg, test.cancel)
		resumed, err := Resume(context.Background(), compile(t, test.model), dataset.Preprocess{}, test.data, test.val, cfg, nil)
		if err != nil {
			t.Fatalf("%s: resume: %v", name, err)
		}
		resumedCk, err := LoadCheckpoint(cfg.CheckpointDir)
		if err != nil {
			t.Fatal(err)
		}
		if p := sameBits(resumedCk.Weights, wholeCk.Weights); p != "" {
			t.Errorf("%s: after resuming, the final weights differ from an uninterrupted run's (first at %s)", name, p)
		}
		if p := sameBits(resumed.Weights, whole.Weights); p != "" || resumed.BestEpoch != whole.BestEpoch {
			t.Errorf("%s: best weights differ (first at %q), best epoch %d vs %d", name, p, resumed.BestEpoch, whole.BestEpoch)
		}
		if len(resumed.History) != 4 || len(whole.History) != 4 {
			t.Fatalf("%s: histories of %d and %d entries, want 4", name, len(resumed.History), len(whole.History))
		}
		sameHistory(t, name, whole.History, resumed.History)
	}
}

// interrupt runs cfg's training in cfg.CheckpointDir and stops it after
// the first epoch: by cancelling the context during the second, or by
// StopAfter.
func interrupt(t *testing.T, name, model string, data, val *Data, cfg Config, cancel bool) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	progress := func(p Progress) {
		if p.Phase == "train" && p.Epoch == 2 && p.Step == 2 {
			stop()
		}
	}
	if !cancel {
		cfg.StopAfter, progress = 1, nil
	}
	part, err := Train(ctx, compile(t, model), dataset.Preprocess{}, data, val, cfg, progress)
	switch {
	case cancel && !errors.Is(err, context.Canceled):
		t.Fatalf("%s: cancelled in epoch 2: err %v, want context.Canceled", name, err)
	case cancel && !strings.Contains(err.Error(), "after epoch 1"):
		t.Errorf("%s: the interruption error does not name the kept checkpoint: %v", name, err)
	case !cancel && (err != nil || !part.Early || part.Epochs != 1):
		t.Fatalf("%s: StopAfter 1: %v, %+v; want an early stop after 1 epoch", name, err, part)
	}
}

// sameHistory checks that two histories agree but for their timings.
func sameHistory(t *testing.T, name string, whole, resumed []Epoch) {
	t.Helper()
	for e := range whole {
		a, b := whole[e], resumed[e]
		a.Seconds, a.SamplesPerSec, b.Seconds, b.SamplesPerSec = 0, 0, 0, 0
		if a != b {
			t.Errorf("%s: epoch %d: %+v uninterrupted, %+v resumed", name, e, a, b)
		}
	}
}

// TestResumeRefusesChanges checks that a resume with other settings, data
// or model fails and says what differs.
func TestResumeRefusesChanges(t *testing.T) {
	data := random(16, 1, 12, 12, 1)
	cfg := Config{Recipe: Clean, Epochs: 2, Batch: 8, Seed: 1, CheckpointDir: t.TempDir(), StopAfter: 1}
	if _, err := Train(context.Background(), compile(t, "dropout"), dataset.Preprocess{}, data, nil, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), compile(t, "dropout"), dataset.Preprocess{}, data, nil, cfg, nil); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("Train into a folder with a checkpoint: %v; want a refusal", err)
	}
	cfg.StopAfter = 0
	lr := cfg
	lr.LR = 0.5
	trained := compile(t, "dropout")
	trained.Params()[0].T.Data[0] += 1
	for _, test := range []struct {
		name string
		run  func() error
		want string
	}{
		{"learning rate", func() error {
			_, err := Resume(context.Background(), compile(t, "dropout"), dataset.Preprocess{}, data, nil, lr, nil)
			return err
		}, "lr: checkpoint 0.001, now 0.5"},
		{"data", func() error {
			_, err := Resume(context.Background(), compile(t, "dropout"), dataset.Preprocess{}, random(16, 1, 12, 12, 2), nil, cfg, nil)
			return err
		}, "data differ"},
		{"model", func() error {
			_, err := Resume(context.Background(), trained, dataset.Preprocess{}, data, nil, cfg, nil)
			return err
		}, "original model"},
		{"preprocessing", func() error {
			_, err := Resume(context.Background(), compile(t, "dropout"), dataset.Preprocess{Scale: 255}, data, nil, cfg, nil)
			return err
		}, "preprocessing"},
		// Last: it rewrites the checkpoint. A damaged optimizer state is
		// refused, not a panic in the first step.
		{"optimizer state", func() error {
			ck, err := LoadCheckpoint(cfg.CheckpointDir)
			if err != nil {
				return err
			}
			ck.Adam.V[0] = ck.Adam.V[0][:len(ck.Adam.V[0])-1]
			if err := ck.save(cfg.CheckpointDir); err != nil {
				return err
			}
			_, err = Resume(context.Background(), compile(t, "dropout"), dataset.Preprocess{}, data, nil, cfg, nil)
			return err
		}, "Adam state of parameter 0 is inconsistent"},
	} {
		if err := test.run(); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s changed: err %v; want one containing %q", test.name, err, test.want)
		}
	}
}

// TestDivergenceStops trains with an absurd learning rate and checks the
// run stops with ErrDiverged, names where, and keeps the last checkpoint.
func TestDivergenceStops(t *testing.T) {
	dir := t.TempDir()
	_, err := Train(context.Background(), compile(t, "fmnist_cnn"), dataset.Preprocess{}, fashion(t, 0, 64), nil,
		Config{Recipe: Clean, Epochs: 2, Batch: 16, Optimizer: SGD, LR: 1e6, CheckpointDir: dir}, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("lr 1e6: err %v, want ErrDiverged", err)
	}
	for _, want := range []string{"epoch 1, step", "last good checkpoint (after epoch 0)", dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range ck.Weights {
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("the kept checkpoint has %v in %s", x, name)
			}
		}
	}
}

func TestFixedBatchModel(t *testing.T) {
	_, err := Train(context.Background(), compile(t, "fmnist_cnn_b1_255"), dataset.Preprocess{Scale: 255}, fashion(t, 0, 8), nil,
		Config{Recipe: Paper, Eps: 0.1, Batch: 4}, nil)
	if !errors.Is(err, ErrFixedBatch) || !strings.Contains(err.Error(), "2×4") || !strings.Contains(err.Error(), "dynamic") {
		t.Errorf("fixed batch of 1: err %v; want ErrFixedBatch naming the batch and the fix", err)
	}
}

// TestCleanRecipeTrainsFromScratch trains the randomly initialised
// benchmark CNN on real images and checks the loss falls.
func TestCleanRecipeTrainsFromScratch(t *testing.T) {
	res, err := Train(context.Background(), compile(t, "bench_mnist"), dataset.Preprocess{}, fashion(t, 0, 256), fashion(t, 800, 200),
		Config{Recipe: Clean, Epochs: 3, Batch: 32, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := res.History
	t.Logf("train loss %.3f → %.3f; val accuracy %.3f → %.3f", h[1].TrainLoss, h[3].TrainLoss, h[0].ValClean, h[3].ValClean)
	if h[3].TrainLoss > 0.8*h[1].TrainLoss {
		t.Errorf("training loss went from %.3f to %.3f; want it to fall by 20%%", h[1].TrainLoss, h[3].TrainLoss)
	}
	if h[res.BestEpoch].ValClean < 0.4 {
		t.Errorf("best validation accuracy %.3f; want at least 0.4", h[res.BestEpoch].ValClean)
	}
}

// TestBatchNormPolicy trains the residual model with BatchNorm in both
// policies: frozen keeps the running statistics exactly, train moves them;
// both train the weights.
func TestBatchNormPolicy(t *testing.T) {
	data := random(32, 3, 16, 16, 1)
	for _, bn := range []string{BNFrozen, BNTrain} {
		prog := compile(t, "resblock")
		start := paramValues(prog)
		res, err := Train(context.Background(), prog, dataset.Preprocess{}, data, nil,
			Config{Recipe: Paper, Eps: 0.05, Epochs: 1, Batch: 8, BN: bn}, nil)
		if err != nil {
			t.Fatal(err)
		}
		stats, weights := 0, 0
		for name, v := range start {
			moved := sameBits(map[string][]float32{name: v}, map[string][]float32{name: res.Weights[name]}) != ""
			switch {
			case strings.HasSuffix(name, "running_mean") || strings.HasSuffix(name, "running_var"):
				if moved {
					stats++
				}
			case moved:
				weights++
			}
		}
		if bn == BNFrozen && stats != 0 || bn == BNTrain && stats != 12 {
			t.Errorf("BN %s: %d of 12 running statistics moved", bn, stats)
		}
		if weights == 0 {
			t.Errorf("BN %s: no weight moved", bn)
		}
	}
}

// TestRecipesRun runs one short epoch of every recipe on the benchmark CNN
// and checks the history records what each measures.
func TestRecipesRun(t *testing.T) {
	train, val := fashion(t, 0, 64), fashion(t, 900, 64)
	for _, r := range Recipes {
		dir := t.TempDir()
		res, err := Train(context.Background(), compile(t, "bench_mnist"), dataset.Preprocess{}, train, val,
			Config{Recipe: r, Eps: 0.1, Epochs: 1, Batch: 32, PGDSteps: map[Recipe]int{PGD: 2, TRADES: 2, MART: 2}[r], ProbeSteps: map[Recipe]int{Paper: 3, FGSMRS: 3, PGD: 3, TRADES: 3, MART: 3}[r], CheckpointDir: dir}, nil)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		last := res.History[len(res.History)-1]
		if last.Epoch != 1 || last.TrainLoss <= 0 || last.LR != DefaultAdamLR {
			t.Errorf("%s: history %+v", r, last)
		}
		if (r != Clean) != (last.Probe != "") {
			t.Errorf("%s: probe %q; want one for every adversarial recipe", r, last.Probe)
		}
		if b, err := os.ReadFile(filepath.Join(dir, HistoryFile)); err != nil || !strings.Contains(string(b), `"val_fgsm_acc"`) {
			t.Errorf("%s: history.json: %v", r, err)
		}
	}
}

// TestCollapseRule checks the catastrophic-overfitting rule on made-up
// histories.
func TestCollapseRule(t *testing.T) {
	for _, test := range []struct {
		best, now Epoch
		collapse  bool
	}{
		{Epoch{ValPGD: 0.40}, Epoch{Epoch: 2, ValPGD: 0.35, ValFGSM: 0.6}, false},
		{Epoch{ValPGD: 0.40}, Epoch{Epoch: 2, ValPGD: 0.15, ValFGSM: 0.8}, true},  // below half the best
		{Epoch{ValPGD: 0.02}, Epoch{Epoch: 1, ValPGD: 0.01, ValFGSM: 0.2}, false}, // weak from the start
		{Epoch{ValPGD: 0.02}, Epoch{Epoch: 1, ValPGD: 0.01, ValFGSM: 0.7}, true},  // near 0 while FGSM is high
	} {
		tr := &trainer{cfg: Config{Recipe: FGSMRS}, val: &Data{}, history: []Epoch{test.best}}
		if why := tr.collapsed(test.now); (why != "") != test.collapse {
			t.Errorf("best %+v, now %+v: collapse %q, want %v", test.best, test.now, why, test.collapse)
		}
	}
}

// TestBestEpochRule checks which epoch the recipes keep: the adversarial
// ones by the PGD probe, so that an epoch whose FGSM accuracy rose while
// PGD's fell (label leaking, catastrophic overfitting) loses; clean by
// clean accuracy.
func TestBestEpochRule(t *testing.T) {
	best := Epoch{ValClean: 0.85, ValFGSM: 0.60, ValPGD: 0.30}
	for _, test := range []struct {
		recipe Recipe
		now    Epoch
		better bool
	}{
		{Paper, Epoch{Epoch: 1, ValClean: 0.86, ValFGSM: 0.95, ValPGD: 0.05}, false}, // leaking
		{Paper, Epoch{Epoch: 1, ValClean: 0.80, ValFGSM: 0.55, ValPGD: 0.35}, true},
		{FGSMRS, Epoch{Epoch: 1, ValClean: 0.86, ValFGSM: 0.90, ValPGD: 0.29}, false},
		{PGD, Epoch{Epoch: 1, ValClean: 0.86, ValFGSM: 0.60, ValPGD: 0.30}, true}, // tie on PGD, better clean
		{Clean, Epoch{Epoch: 1, ValClean: 0.86, ValFGSM: 0.10}, true},
	} {
		tr := &trainer{cfg: Config{Recipe: test.recipe}, val: &Data{}, history: []Epoch{best}}
		if got := tr.better(test.now); got != test.better {
			t.Errorf("%s: %+v better than %+v: %v, want %v", test.recipe, test.now, best, got, test.better)
		}
	}
}

// TestCollapseStopsAndRestores drives fgsm-rs into a collapse of PGD
// accuracy (a learning rate multiplied by 1000 in the second epoch wrecks
// the model) and checks the run stops, says why, restores the best epoch
// in the result, the program and the checkpoint, and that Resume then
// returns the same result without training.
func TestCollapseStopsAndRestores(t *testing.T) {
	prog := compile(t, "fmnist_cnn")
	train, val := fashion(t, 0, 256), fashion(t, 600, 128)
	cfg := Config{Recipe: FGSMRS, Eps: 0.1, Epochs: 3, Batch: 32, Seed: 1, Schedule: Step, StepEvery: 1, StepFactor: 1000,
		ProbeSteps: 5, ProbeSamples: 128, CheckpointDir: t.TempDir()}
	res, err := Train(context.Background(), prog, dataset.Preprocess{}, train, val, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.History {
		t.Logf("epoch %d: lr %g clean %.3f fgsm %.3f pgd %.3f %s", e.Epoch, e.LR, e.ValClean, e.ValFGSM, e.ValPGD, e.Note)
	}
	if !res.Early || !strings.Contains(res.Reason, "collapsed in epoch 2") || res.BestEpoch != 1 || res.Epochs != 2 {
		t.Fatalf("early %v, reason %q, best epoch %d after %d; want a stop in epoch 2 restoring epoch 1", res.Early, res.Reason, res.BestEpoch, res.Epochs)
	}
	if res.History[2].Note == "" {
		t.Error("the collapsed epoch is not marked in the history")
	}
	if p := sameBits(paramValues(prog), res.Weights); p != "" {
		t.Errorf("the program does not hold the restored weights (first difference at %s)", p)
	}
	again, err := Resume(context.Background(), compile(t, "fmnist_cnn"), dataset.Preprocess{}, train, val, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Reason != res.Reason || sameBits(again.Weights, res.Weights) != "" || again.Epochs != 2 {
		t.Errorf("resuming a stopped run: %q after %d epochs; want the same stop", again.Reason, again.Epochs)
	}
}
