package harden

import (
	"context"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// TestValidateCleanCounts checks that the clean accuracy taken from FGSM's
// gradient pass (Eps > 0) counts what the model's forward pass counts.
func TestValidateCleanCounts(t *testing.T) {
	val := fashion(t, 600, 300) // five validation batches of 64 (the training batch)
	tr, err := newTrainer(compile(t, "fmnist_cnn"), dataset.Preprocess{}, fashion(t, 0, 8), val, Config{Recipe: Paper, Eps: 0.1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logits, k, err := tr.model.Logits(nil, val.X, val.N)
	if err != nil {
		t.Fatal(err)
	}
	want := countCorrect(logits, val.Labels, k)
	clean, adv, err := tr.validateClean(&valBatches{t: tr, ctx: context.Background(), size: evalBatch(tr.cfg), steps: 5})
	if err != nil {
		t.Fatal(err)
	}
	if clean != want || adv >= clean {
		t.Errorf("validation: %d clean correct (forward pass: %d), %d under FGSM; want equal clean counts and fewer under FGSM", clean, want, adv)
	}
}

// batchSizes is a Trainable that records the largest batch each of its
// passes saw.
type batchSizes struct {
	*interp.Program
	run, grad int
}

func (b *batchSizes) Run(x *interp.Tensor) ([]*interp.Tensor, error) {
	b.run = max(b.run, x.Shape[0])
	return b.Program.Run(x)
}

func (b *batchSizes) Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error) {
	b.grad = max(b.grad, x.Shape[0])
	return b.Program.Grad(x, labels, want)
}

// TestValidationBatch: validation attacks and classifies in batches of the
// training batch (at most 256), which the user sized to fit in memory,
// with both probes.
func TestValidationBatch(t *testing.T) {
	for _, probe := range []string{ProbePGD, ProbeAPGD} {
		m := &batchSizes{Program: compile(t, "fmnist_cnn")}
		cfg := Config{Recipe: Paper, Eps: 0.1, Batch: 8, Probe: probe, ProbeSteps: 2, ProbeSamples: 20}
		tr, err := newTrainer(m, dataset.Preprocess{}, fashion(t, 0, 16), fashion(t, 600, 40), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := tr.validate(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if m.run == 0 || m.grad == 0 || m.run > 8 || m.grad > 8 || rec.ValClean == 0 {
			t.Errorf("probe %s: largest batches %d (Run) and %d (Grad), clean accuracy %g; want passes of at most 8", probe, m.run, m.grad, rec.ValClean)
		}
	}
	if got := evalBatch(Config{Batch: 1024}); got != 256 {
		t.Errorf("evalBatch at a training batch of 1024: %d, want 256", got)
	}
}
