package fgsm

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime"
)

// stageEnv is the environment an audit gives a stage, on the interpreter.
func stageEnv(t *testing.T, m *Model, norm Norm, eps float64, iters int) *StageEnv {
	t.Helper()
	a, err := NewAttacker(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	return &StageEnv{Attacker: a, Score: m.Score, Classes: a.Classes(), C: m.C, H: m.H, W: m.W, Norm: norm, Eps: eps, Seed: 3, Iters: iters}
}

// TestAPGDStages checks that every APGD stage keeps its examples inside
// the ε-ball and [0,1], in L∞ and L2, and breaks some samples.
func TestAPGDStages(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	x, labels := testfiles.FashionSlice(t, 12)
	per := m.Per()
	idx := indices(50, len(labels))
	for _, norm := range []Norm{Linf, L2} {
		eps := map[Norm]float64{Linf: 0.1, L2: 1.5}[norm]
		for _, name := range []string{"apgd-ce", "apgd-dlr", "apgd-t"} {
			f, err := Stage(name)
			if err != nil {
				t.Fatal(err)
			}
			env := stageEnv(t, m, norm, eps, 8)
			env.Targets = 2
			whole, err := f(context.Background(), env, x, labels, idx)
			if err != nil {
				t.Fatalf("%s %s: %v", name, norm, err)
			}
			requireInBudget(t, name+" "+string(norm), whole.Adv, x, per, norm, eps)
			logits, k, _ := m.Logits(nil, whole.Adv, len(labels))
			wrong := 0
			for i, y := range labels {
				if runtime.Argmax(logits[i*k:(i+1)*k]) != y {
					wrong++
				}
			}
			if wrong == 0 {
				t.Errorf("%s %s ε=%g broke none of %d samples", name, norm, eps, len(labels))
			}
		}
	}
}

// TestAPGDSampleStreams checks that a sample's APGD run depends on the
// sample alone (its random starts on its index), not on the batch it
// comes in, on an objective whose arithmetic is per sample. (The
// interpreter's sums may round differently with the batch size, so on a
// model the examples agree up to that rounding.)
func TestAPGDSampleStreams(t *testing.T) {
	const n, per, eps = 6, 10, 0.2
	c, x := make([]float32, n*per), make([]float32, n*per)
	for j := range x {
		x[j] = float32(j%7) / 7
		c[j] = float32(j%5) / 5
	}
	idx := []int{10, 11, 12, 13, 14, 15}
	for _, norm := range []Norm{Linf, L2} {
		cfg := apgdConfig{Norm: norm, Eps: eps, Iters: 30}
		run := func(lo, hi int) []float32 {
			adv := slices.Clone(x[lo*per : hi*per])
			q := &quadratic{c: c[lo*per : hi*per], per: per}
			err := apgdRestart(context.Background(), q, cfg, 4, apgdCEStream, x[lo*per:hi*per], idx[lo:hi], per, adv, make([]bool, hi-lo))
			if err != nil {
				t.Fatal(err)
			}
			return adv
		}
		whole := run(0, n)
		if split := append(run(0, 2), run(2, n)...); !slices.Equal(whole, split) {
			t.Errorf("%s: a sample's result changes when the batch is split", norm)
		}
		requireInBudget(t, string(norm), whole, x, per, norm, eps)
	}
}

func TestNewEnsemble(t *testing.T) {
	e, err := NewEnsemble("apgd-t", L2, 0.5, 7)
	if err != nil || len(e.Stages) != 1 || e.Stages[0] != (StageSpec{Name: "apgd-t", Iters: 7}) {
		t.Errorf("apgd-t alone: %+v, %v", e, err)
	}
	if _, err := NewEnsemble("deepfool", Linf, 0.1, 0); err == nil || !strings.Contains(err.Error(), "unknown attack") {
		t.Errorf("unknown attack: error %v", err)
	}
	for v, names := range map[string][]string{
		"autoattack":      {"apgd-ce", "apgd-t", "fab-t", "square"},
		"autoattack-plus": {"apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t"},
		"autoattack-rand": {"apgd-ce", "apgd-dlr"},
	} {
		var got []string
		for _, s := range versions[v] {
			got = append(got, s.Name)
		}
		if !slices.Equal(got, names) {
			t.Errorf("%s runs %v, want %v", v, got, names)
		}
		var missing string
		for _, n := range names {
			if _, err := Stage(n); err != nil && missing == "" {
				missing = n
			}
		}
		_, err := NewEnsemble(v, Linf, 0.1, 0)
		switch {
		case missing == "" && err != nil:
			t.Errorf("%s: %v", v, err)
		case missing != "" && (err == nil || !strings.Contains(err.Error(), `"`+missing+`"`)):
			t.Errorf("%s without stage %s: error %v, want one naming it", v, missing, err)
		}
	}
	if rand := versions["autoattack-rand"]; rand[0].EOT != 20 || rand[1].EOT != 20 {
		t.Errorf("autoattack-rand averages %d and %d draws, want 20", rand[0].EOT, rand[1].EOT)
	}
}

// writeSlice writes n Fashion-MNIST test samples as .npy images and labels.
func writeSlice(t *testing.T, n int) (images, labels string) {
	t.Helper()
	x, ys := testfiles.FashionSlice(t, n)
	dir := t.TempDir()
	images, labels = filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := dataset.WriteNpy(images, x, []int{n, 1, 28, 28}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(labels)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := make([]int64, n)
	for i, y := range ys {
		l[i] = int64(y)
	}
	if err := npyio.Write(f, l); err != nil {
		t.Fatal(err)
	}
	return images, labels
}

// apgdEnsemble is AutoAttack's gradient half, few iterations.
var apgdEnsemble = Ensemble{Name: "apgd", Norm: Linf, Eps: 0.1,
	Stages: []StageSpec{{Name: "apgd-ce", Iters: 20}, {Name: "apgd-t", Iters: 20, Targets: 3}}}

// TestEnsembleAudit audits a slice with PGD and the APGD stages of
// AutoAttack at ε = 0.1: the ensemble must be at least as strong as PGD,
// its per-stage counts must add up, and shards, and a run resumed from
// finished batches, must give the figures of one run.
func TestEnsembleAudit(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	images, labels := writeSlice(t, 40)
	// Batches of 10 split the shards of 20 as they split the whole, so
	// the interpreter sums alike.
	audit := func(shard, shards int, opt AuditOptions) *Report {
		t.Helper()
		src, err := dataset.Open(images, &dataset.Options{Labels: labels, Shard: shard, Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		opt.Attacks = []Config{{Method: PGD, Eps: 0.1, RandomStart: true}}
		opt.Ensembles = []Ensemble{apgdEnsemble}
		opt.Batch, opt.Seed = 10, 9
		r, err := Audit(context.Background(), m, src, opt)
		if err != nil {
			t.Fatal(err)
		}
		r.Shards[0].Index, r.Shards[0].Of = shard, shards
		return r
	}
	var batches []*Report
	whole := audit(0, 0, AuditOptions{Checkpoint: func(b *Report) error {
		data, err := json.Marshal(b) // as a state file keeps it
		if err != nil {
			return err
		}
		var back Report
		batches = append(batches, &back)
		return json.Unmarshal(data, &back)
	}})
	aa, pgd := whole.Ensembles[0], whole.Results[0]
	t.Logf("clean %d, PGD %d, APGD-CE → APGD-T %d of %d; after each stage %+v", whole.CleanCorrect, pgd.Correct, aa.Correct, aa.Samples, aa.PerStage)
	if aa.Correct > pgd.Correct {
		t.Errorf("the APGD ensemble leaves %d samples robust, PGD %d", aa.Correct, pgd.Correct)
	}
	if aa.LinfMax > 0.1+1e-6 {
		t.Errorf("a worst case lies %g from its clean image, beyond ε=0.1", aa.LinfMax)
	}
	broken := whole.Samples - whole.CleanCorrect
	for i, s := range aa.PerStage {
		want := whole.CleanCorrect
		if i > 0 {
			want = aa.PerStage[i-1].Robust
		}
		if s.Attacked != want || s.Robust != s.Attacked-s.Broken {
			t.Errorf("stage %s attacked %d (want %d), broke %d, left %d", s.Name, s.Attacked, want, s.Broken, s.Robust)
		}
		broken += s.Broken
	}
	if len(aa.Broken) != broken || aa.Correct != whole.Samples-broken {
		t.Errorf("%d samples listed as broken, %d counted; %d robust", len(aa.Broken), broken, aa.Correct)
	}
	if len(batches) != 4 {
		t.Fatalf("%d batch reports for 40 samples in batches of 10", len(batches))
	}

	merged, err := Merge([]*Report{audit(1, 2, AuditOptions{}), audit(0, 2, AuditOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	resumed := audit(0, 0, AuditOptions{Done: []*Report{batches[2], batches[0], batches[1]}})
	for name, got := range map[string]*Report{"merged shards": merged, "resumed": resumed} {
		sameFigures(t, name, got, whole)
	}
}

// sameFigures fails t when got's figures differ from want's, timings
// aside.
func sameFigures(t *testing.T, name string, got, want *Report) {
	t.Helper()
	strip := func(r *Report) string {
		c := *r
		c.Shards, c.Examples = nil, nil
		var es []EnsembleResult
		for _, e := range r.Ensembles {
			e := *e
			e.PerStage = slices.Clone(e.PerStage)
			for i := range e.PerStage {
				e.PerStage[i].Seconds = 0
			}
			es = append(es, e)
		}
		c.Ensembles = nil
		data, err := json.Marshal(struct {
			R  Report
			Es []EnsembleResult
		}{c, es})
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if g, w := strip(got), strip(want); g != w {
		t.Errorf("%s: the figures differ from one run's\n got %s\nwant %s", name, g, w)
	}
}
