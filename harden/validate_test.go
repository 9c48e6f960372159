package harden

import (
	"context"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
)

// TestValidateCleanCounts checks that the clean accuracy taken from FGSM's
// gradient pass (Eps > 0) counts what the model's forward pass counts.
func TestValidateCleanCounts(t *testing.T) {
	val := fashion(t, 600, 300) // two validation batches
	tr, err := newTrainer(compile(t, "fmnist_cnn"), dataset.Preprocess{}, fashion(t, 0, 8), val, Config{Recipe: Paper, Eps: 0.1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logits, k, err := tr.model.Logits(nil, val.X, val.N)
	if err != nil {
		t.Fatal(err)
	}
	want := countCorrect(logits, val.Labels, k)
	clean, adv, err := tr.validateClean(&valBatches{t: tr, ctx: context.Background(), steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	if clean != want || adv >= clean {
		t.Errorf("validation: %d clean correct (forward pass: %d), %d under FGSM; want equal clean counts and fewer under FGSM", clean, want, adv)
	}
}
