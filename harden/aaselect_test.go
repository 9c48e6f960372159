package harden

import (
	"context"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
)

// TestPatienceRule checks the robust-overfitting stop on made-up
// histories: it fires once the last Patience epochs all fell below the
// best epoch's probe accuracy.
func TestPatienceRule(t *testing.T) {
	h := func(best int, acc ...float64) []Epoch {
		out := make([]Epoch, len(acc))
		for i, a := range acc {
			out[i] = Epoch{Epoch: i, ValAPGD: a}
		}
		return out
	}
	for i, test := range []struct {
		patience, best int
		history        []Epoch
		stop           bool
	}{
		{2, 1, h(1, 0.1, 0.4, 0.3, 0.35), true},
		{2, 1, h(1, 0.1, 0.4, 0.3), false},             // one epoch below only
		{3, 1, h(1, 0.1, 0.4, 0.3, 0.35), false},       // patience not yet spent
		{2, 3, h(3, 0.1, 0.4, 0.3, 0.45), false},       // the last epoch is the best
		{0, 1, h(1, 0.1, 0.4, 0.3, 0.2, 0.1), false},   // no patience, no stop
		{1, 2, h(2, 0.1, 0.3, 0.4, 0.4), false},        // a tie is no fall
		{2, 1, h(1, 0.1, 0.4, 0.39, 0.38, 0.37), true}, // falling for three epochs
	} {
		tr := &trainer{cfg: Config{Recipe: TRADES, Probe: ProbeAPGD, Patience: test.patience}, val: &Data{}, history: test.history, bestEpoch: test.best}
		if why := tr.overfitted(); (why != "") != test.stop {
			t.Errorf("case %d: stop %q, want %v", i, why, test.stop)
		}
	}
}

// TestAPGDProbe checks the apgd probe on the PyTorch-trained CNN: it
// counts no more samples robust than are classified correctly or than
// 10-step PGD leaves robust, and it counts the same twice, in batches of
// another size, and after the trainer is built afresh (resume).
func TestAPGDProbe(t *testing.T) {
	val := fashion(t, 600, 48)
	cfg := Config{Recipe: PGD, Eps: 0.1, ProbeSteps: 10, ProbeTargets: 2, Seed: 3}
	tr, err := newTrainer(compile(t, "fmnist_cnn"), dataset.Preprocess{}, fashion(t, 0, 8), val, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	whole, err := tr.apgdRobust(ctx, val.X, val.Labels, 0)
	if err != nil {
		t.Fatal(err)
	}
	per := val.Per()
	halves := 0
	for _, lo := range []int{0, 20} {
		hi := map[int]int{0: 20, 20: 48}[lo]
		c, err := tr.apgdRobust(ctx, val.X[lo*per:hi*per], val.Labels[lo:hi], lo)
		if err != nil {
			t.Fatal(err)
		}
		halves += c
	}
	tr2, err := newTrainer(compile(t, "fmnist_cnn"), dataset.Preprocess{}, fashion(t, 0, 8), val, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tr2.apgdRobust(ctx, val.X, val.Labels, 0)
	if err != nil {
		t.Fatal(err)
	}
	if halves != whole || again != whole {
		t.Errorf("robust counts %d, %d in two batches, %d afresh; want the same", whole, halves, again)
	}
	logits, k, err := tr.model.Logits(nil, val.X, val.N)
	if err != nil {
		t.Fatal(err)
	}
	pgd, err := (fgsm.Config{Method: fgsm.PGD, Eps: 0.1, Steps: 10, RandomStart: true}).Normalize()
	if err != nil {
		t.Fatal(err)
	}
	o, err := tr.atk.Attack(pgd, val.X, val.Labels, val.N, 0)
	if err != nil {
		t.Fatal(err)
	}
	clean, pgdRobust := countCorrect(logits, val.Labels, k), countCorrect(o.Logits, val.Labels, o.K)
	t.Logf("%d samples: clean %d, PGD-10 %d, APGD-CE+APGD-T %d", val.N, clean, pgdRobust, whole)
	if whole > clean || whole > pgdRobust {
		t.Errorf("the apgd probe leaves %d robust; clean %d, PGD-10 %d", whole, clean, pgdRobust)
	}
	if !strings.Contains(tr.probeName(48), "APGD-CE+APGD-T") {
		t.Errorf("probe name %q", tr.probeName(48))
	}
}

// TestPatienceStopsAndResumes wrecks a pgd run in its second epoch (a
// learning rate multiplied by 1000) and checks that patience 1 stops it
// there for robust overfitting, restores epoch 1, and that Resume returns
// the same result.
func TestPatienceStopsAndResumes(t *testing.T) {
	train, val := fashion(t, 0, 128), fashion(t, 600, 64)
	cfg := Config{Recipe: PGD, Eps: 0.1, Epochs: 3, Batch: 32, Seed: 1, PGDSteps: 2, Schedule: Step, StepEvery: 1, StepFactor: 1000,
		ProbeSteps: 5, ProbeTargets: 1, ProbeSamples: 64, Patience: 1, CheckpointDir: t.TempDir()}
	shown := map[int]float64{} // the progress line's robust accuracy, by epoch
	res, err := Train(context.Background(), compile(t, "fmnist_cnn"), dataset.Preprocess{}, train, val, cfg, func(p Progress) {
		if p.Phase == "train" {
			shown[p.Epoch] = p.Robust
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.History {
		t.Logf("epoch %d: clean %.3f apgd %.3f %s", e.Epoch, e.ValClean, e.ValAPGD, e.Note)
		if s, ok := shown[e.Epoch+1]; ok && s != e.ValAPGD {
			t.Errorf("the progress of epoch %d shows robust accuracy %g; epoch %d measured %g", e.Epoch+1, s, e.Epoch, e.ValAPGD)
		}
	}
	if len(shown) != 2 {
		t.Errorf("progress reported for epochs %v; want 1 and 2", shown)
	}
	if !res.Early || !strings.Contains(res.Reason, "robust overfitting") || res.Epochs != 2 || res.BestEpoch == 2 {
		t.Fatalf("early %v, reason %q, best epoch %d after %d; want a stop after epoch 2", res.Early, res.Reason, res.BestEpoch, res.Epochs)
	}
	if res.History[2].Note != "robust overfitting" {
		t.Errorf("epoch 2's note %q", res.History[2].Note)
	}
	again, err := Resume(context.Background(), compile(t, "fmnist_cnn"), dataset.Preprocess{}, train, val, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Reason != res.Reason || sameBits(again.Weights, res.Weights) != "" || again.Epochs != 2 {
		t.Errorf("resuming a stopped run: %q after %d epochs; want the same stop", again.Reason, again.Epochs)
	}
}
