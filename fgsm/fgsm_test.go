package fgsm

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

func loadModel(t testing.TB, name string, pre dataset.Preprocess) *Model {
	t.Helper()
	m, err := onnx.Load(testfiles.Path("models", name))
	if err != nil {
		t.Fatal(err)
	}
	return compileModel(t, m, pre)
}

// compileModel compiles m on the interpreter and sees it from pixel space
// through pre.
func compileModel(t testing.TB, m *onnx.Model, pre dataset.Preprocess) *Model {
	t.Helper()
	p, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := NewModel(p, pre)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func TestNormalize(t *testing.T) {
	for i, test := range []struct {
		in      Config
		want    Config
		wantErr bool
	}{
		{in: Config{Method: FGSM, Eps: 0.1}, want: Config{Method: FGSM, Eps: 0.1, Alpha: 0.1, Steps: 1, Restarts: 1}},
		{in: Config{Method: PGD, Eps: 0.1, RandomStart: true}, want: Config{Method: PGD, Eps: 0.1, Alpha: 0.025, Steps: 10, Restarts: 1, RandomStart: true}},
		{in: Config{Method: BIM, Eps: 0.1, Steps: 5}, want: Config{Method: BIM, Eps: 0.1, Alpha: 0.02, Steps: 5, Restarts: 1}},
		{in: Config{Method: MIFGSM, Eps: 0.1}, want: Config{Method: MIFGSM, Eps: 0.1, Alpha: 0.01, Steps: 10, Restarts: 1, Momentum: 1}},
		{in: Config{Method: FGSM, Eps: 0}, wantErr: true},
		{in: Config{Method: FGSM, Eps: 1.5}, wantErr: true},
		{in: Config{Method: FGSM, Eps: 0.1, Steps: 3}, wantErr: true},
		{in: Config{Method: PGD, Eps: 0.1, Restarts: 3}, wantErr: true},
		{in: Config{Method: BIM, Eps: 0.1, Momentum: 0.5}, wantErr: true},
		{in: Config{Method: "deepfool", Eps: 0.1}, wantErr: true},
		{in: Config{Method: FGSM, Eps: math.NaN()}, wantErr: true},
		{in: Config{Method: PGD, Eps: math.Inf(1)}, wantErr: true},
		{in: Config{Method: BIM, Eps: 0.1, Alpha: math.NaN()}, wantErr: true},
		{in: Config{Method: MIFGSM, Eps: 0.1, Momentum: math.NaN()}, wantErr: true},
		{in: Config{Method: MIFGSM, Eps: 0.1, Momentum: math.Inf(1)}, wantErr: true},
	} {
		got, err := test.in.Normalize()
		if (err != nil) != test.wantErr {
			t.Errorf("case %d: Normalize(%+v) error %v, want error %t", i, test.in, err, test.wantErr)
			continue
		}
		if err == nil && math.Abs(got.Alpha-test.want.Alpha) < 1e-12 {
			got.Alpha = test.want.Alpha
		}
		if err == nil && got != test.want {
			t.Errorf("case %d: Normalize(%+v) = %+v, want %+v", i, test.in, got, test.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, test := range []struct {
		in   string
		want Target
		ok   bool
	}{
		{"", Target{}, true}, {"next", Target{Mode: "next"}, true}, {"random", Target{Mode: "random"}, true},
		{"3", Target{Mode: "class", Class: 3}, true}, {"-1", Target{}, false}, {"cat", Target{}, false}, {"3x", Target{}, false},
	} {
		got, err := ParseTarget(test.in)
		if (err == nil) != test.ok || err == nil && got != test.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v, ok %t", test.in, got, err, test.want, test.ok)
		}
	}
}

// TestGradPixelSpace checks the pixel-space gradient, carried back through
// the preprocessing, against central differences of the summed loss.
func TestGradPixelSpace(t *testing.T) {
	pre := dataset.Preprocess{Scale: 1, Mean: []float32{0.2}, Std: []float32{0.5}}
	m := loadModel(t, "fmnist_cnn.onnx", pre)
	x, labels := testfiles.FashionSlice(t, 3)
	x = slices.Clone(x)
	grad := make([]float32, len(x))
	if _, _, err := m.Grad(grad, nil, x, labels, 3); err != nil {
		t.Fatal(err)
	}
	loss := func(x []float32) float64 {
		lg, k, err := m.Logits(nil, x, 3)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, y := range labels {
			s += crossEntropy(lg[i*k:(i+1)*k], y)
		}
		return s
	}
	checkPixelGradient(t, grad, x, loss, 1, 2)
}

// TestFixedBatchGradient checks that a model exported with a batch of 1
// and 0-255 input gives, with --input-scale 255, the same pixel gradients
// as the dynamic-batch model over [0,1].
func TestFixedBatchGradient(t *testing.T) {
	dyn := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	fixed := loadModel(t, "fmnist_cnn_b1_255.onnx", dataset.Preprocess{Scale: 255})
	x, labels := testfiles.FashionSlice(t, 5)
	g1, g2 := make([]float32, len(x)), make([]float32, len(x))
	if _, _, err := dyn.Grad(g1, nil, x, labels, 5); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fixed.Grad(g2, nil, x, labels, 5); err != nil {
		t.Fatal(err)
	}
	var worst, scale float64
	for i := range g1 {
		worst = max(worst, math.Abs(float64(g1[i]-g2[i])))
		scale = max(scale, math.Abs(float64(g1[i])))
	}
	if worst > 1e-4*scale {
		t.Errorf("fixed-batch gradients differ from dynamic-batch ones by %g (largest gradient %g)", worst, scale)
	}
}

func attackSlice(t *testing.T, a *Attacker, c Config, x []float32, labels []int, start int) *Outcome {
	t.Helper()
	c, err := c.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	o, err := a.Attack(c, x, labels, len(labels), start)
	if err != nil {
		t.Fatal(err)
	}
	return &Outcome{Adv: slices.Clone(o.Adv), Logits: slices.Clone(o.Logits), K: o.K, Targets: slices.Clone(o.Targets)}
}

func accuracy(o *Outcome, labels []int) int {
	n := 0
	for i, y := range labels {
		if runtime.Argmax(o.Logits[i*o.K:(i+1)*o.K]) == y {
			n++
		}
	}
	return n
}

// TestAttacks checks each attack's budget, its strength against the model
// and FGSM's exact form.
func TestAttacks(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	a, err := NewAttacker(m, 7)
	if err != nil {
		t.Fatal(err)
	}
	x, labels := testfiles.FashionSlice(t, 64)
	clean := attackSlice(t, a, Config{Method: BIM, Eps: 1e-9, Steps: 1}, x, labels, 0)
	acc := map[Method]int{}
	for _, c := range []Config{
		{Method: FGSM, Eps: 0.1},
		{Method: BIM, Eps: 0.1},
		{Method: PGD, Eps: 0.1, RandomStart: true},
		{Method: MIFGSM, Eps: 0.1},
	} {
		o := attackSlice(t, a, c, x, labels, 0)
		for i, v := range o.Adv {
			if v < 0 || v > 1 || math.Abs(float64(v-x[i])) > c.Eps+1e-6 {
				t.Fatalf("%s: pixel %d is %g from clean %g: outside [0,1] or the ε-ball", c.Method, i, v, x[i])
			}
		}
		acc[c.Method] = accuracy(o, labels)
	}
	t.Logf("accuracy on 64 samples: clean %d, %v", accuracy(clean, labels), acc)
	if acc[FGSM] >= accuracy(clean, labels) {
		t.Errorf("FGSM left %d correct of %d, clean %d", acc[FGSM], len(labels), accuracy(clean, labels))
	}
	for _, meth := range []Method{BIM, PGD, MIFGSM} {
		if acc[meth] > acc[FGSM] {
			t.Errorf("%s left %d correct, more than FGSM's %d", meth, acc[meth], acc[FGSM])
		}
	}
	// FGSM is exactly clip(x + ε·sign(g), 0, 1).
	grad := make([]float32, len(x))
	if _, _, err := m.Grad(grad, nil, x, labels, len(labels)); err != nil {
		t.Fatal(err)
	}
	o := attackSlice(t, a, Config{Method: FGSM, Eps: 0.1}, x, labels, 0)
	for i := range x {
		if want := clamp01(x[i] + float32(0.1)*sign(grad[i])); o.Adv[i] != want {
			t.Fatalf("FGSM pixel %d = %g, want clip(%g + 0.1·sign(%g)) = %g", i, o.Adv[i], x[i], grad[i], want)
		}
	}
}

// TestDeterministicAcrossBatches checks that random starts depend on the
// seed and the sample's index only, so shards reproduce a single run.
func TestDeterministicAcrossBatches(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	a, err := NewAttacker(m, 11)
	if err != nil {
		t.Fatal(err)
	}
	x, labels := testfiles.FashionSlice(t, 20)
	c := Config{Method: PGD, Eps: 0.05, Steps: 3, RandomStart: true, Restarts: 2}
	whole := attackSlice(t, a, c, x, labels, 100)
	per := m.Per()
	head := attackSlice(t, a, c, x[:7*per], labels[:7], 100)
	tail := attackSlice(t, a, c, x[7*per:], labels[7:], 107)
	if !slices.Equal(whole.Adv, append(head.Adv, tail.Adv...)) {
		t.Error("PGD with random starts gives different images when the batch is split")
	}
	again := attackSlice(t, a, c, x, labels, 100)
	if !slices.Equal(whole.Adv, again.Adv) {
		t.Error("PGD is not deterministic for a fixed seed")
	}
	b, _ := NewAttacker(m, 12)
	other := attackSlice(t, b, c, x, labels, 100)
	if slices.Equal(whole.Adv, other.Adv) {
		t.Error("another seed gives the same random starts")
	}
}

func TestTargeted(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	a, err := NewAttacker(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	x, labels := testfiles.FashionSlice(t, 64)
	per := m.Per()
	for _, tg := range []Target{{Mode: "class", Class: 2}, {Mode: "next"}, {Mode: "random"}} {
		o := attackSlice(t, a, Config{Method: PGD, Eps: 0.2, Steps: 20, Target: tg}, x, labels, 0)
		hits, eligible := 0, 0
		for i, y := range labels {
			switch {
			case tg.Mode == "class" && y == 2:
				if !o.Skipped(i) || !slices.Equal(o.Adv[i*per:(i+1)*per], x[i*per:(i+1)*per]) {
					t.Errorf("%v: sample %d, labelled with the target, was attacked", tg, i)
				}
				continue
			case o.Targets[i] == y || o.Targets[i] < 0 || o.Targets[i] >= 10:
				t.Fatalf("%v: sample %d labelled %d got target %d", tg, i, y, o.Targets[i])
			}
			eligible++
			if runtime.Argmax(o.Logits[i*10:(i+1)*10]) == o.Targets[i] {
				hits++
			}
		}
		if hits < eligible*3/4 {
			t.Errorf("targeted PGD ε=0.2 toward %v reached the target on %d of %d samples", tg, hits, eligible)
		}
	}
	if _, err := a.Attack(Config{Method: FGSM, Eps: 0.1, Alpha: 0.1, Steps: 1, Restarts: 1, Target: Target{Mode: "class", Class: 10}}, x, labels, 64, 0); err == nil {
		t.Error("a target class beyond the model's classes was accepted")
	}
}

// TestAuditMerge checks that the reports of shards merge into the report
// of one run over the whole data.
func TestAuditMerge(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	images, labelsPath := writeSlice(t, 90)
	attacks := []Config{{Method: FGSM, Eps: 0.05}, {Method: PGD, Eps: 0.05, Steps: 3, RandomStart: true}}
	audit := func(shard, shards int) *Report {
		src, err := dataset.Open(images, &dataset.Options{Labels: labelsPath, Shard: shard, Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		r, err := Audit(context.Background(), m, src, AuditOptions{Attacks: attacks, Batch: 30, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		r.Shards[0].Index, r.Shards[0].Of = shard, shards
		return r
	}
	whole := audit(0, 0)
	parts := []*Report{audit(2, 3), audit(0, 3), audit(1, 3)}
	merged, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Samples != 90 || merged.CleanCorrect != whole.CleanCorrect {
		t.Fatalf("merged %d samples, %d clean correct; one run %d, %d", merged.Samples, merged.CleanCorrect, whole.Samples, whole.CleanCorrect)
	}
	for i, w := range whole.Results {
		g := merged.Results[i]
		if g.Correct != w.Correct || g.Successes != w.Successes || g.Eligible != w.Eligible || g.Disagreements != w.Disagreements ||
			g.LinfMax != w.LinfMax || math.Abs(g.L2Mean-w.L2Mean) > 1e-12 || !slices.Equal(g.PerClass, w.PerClass) {
			t.Errorf("%s: merged %+v, one run %+v", w.Name(), *g, *w)
		}
	}
	if len(merged.Warnings) != len(whole.Warnings) {
		t.Errorf("merged warnings %q, one run %q", merged.Warnings, whole.Warnings)
	}
	if _, err := Merge([]*Report{parts[0], parts[0]}); err == nil {
		t.Error("merging a shard twice was accepted")
	}
	partial, err := Merge(parts[:2])
	if err != nil {
		t.Fatal(err)
	}
	if len(partial.Warnings) == 0 || !strings.Contains(partial.Warnings[len(partial.Warnings)-1], "missing") {
		t.Errorf("a merge without shard 2 of 3 gave no warning: %q", partial.Warnings)
	}
	other := *parts[1]
	other.Seed++
	if _, err := Merge([]*Report{parts[0], &other}); err == nil {
		t.Error("reports with different seeds merged")
	}
}

// TestCraft checks that Craft gives Attack's examples, without scoring them
// where one restart leaves nothing to choose and with the scores where
// restarts compete.
func TestCraft(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	x, labels := testfiles.FashionSlice(t, 16)
	for _, c := range []Config{
		{Method: FGSM, Eps: 0.1},
		{Method: PGD, Eps: 0.05, Steps: 3, RandomStart: true, Restarts: 3},
	} {
		c, err := c.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		a, _ := NewAttacker(m, 5)
		want, err := a.Attack(c, x, labels, len(labels), 0)
		if err != nil {
			t.Fatal(err)
		}
		wantAdv := slices.Clone(want.Adv)
		b, _ := NewAttacker(m, 5)
		got, err := b.Craft(c, x, labels, len(labels), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Adv, wantAdv) {
			t.Errorf("%s: Craft's examples differ from Attack's", c.Method)
		}
		if scored := len(got.Logits) > 0; scored != (c.Restarts > 1) {
			t.Errorf("%s with %d restarts: Craft returned %d logits", c.Method, c.Restarts, len(got.Logits))
		}
	}
}

// TestLossGradMatchesGrad checks that LossGrad with the summed softmax
// cross-entropy written as a SampleLoss gives Grad's logits and gradient.
func TestLossGradMatchesGrad(t *testing.T) {
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{Scale: 1})
	rng := rand.New(rand.NewPCG(3, 4))
	n, per := 5, m.Per()
	x := make([]float32, n*per)
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := []int{0, 3, 9, 1, 7}
	want := make([]float32, len(x))
	wantLogits, k, err := m.Grad(want, nil, x, labels, n)
	if err != nil {
		t.Fatal(err)
	}
	ce := func(d, row []float32, y, i int) float64 {
		lse := interp.LogSumExp(row)
		for j, v := range row {
			d[j] = float32(math.Exp(float64(v) - lse))
		}
		d[y]--
		return lse - float64(row[y])
	}
	got := make([]float32, len(x))
	gotLogits, k2, err := m.LossGrad(got, nil, x, labels, n, ce)
	if err != nil {
		t.Fatal(err)
	}
	if k != k2 || !slices.Equal(wantLogits, gotLogits) {
		t.Fatalf("logits differ: K %d and %d", k, k2)
	}
	for i := range want {
		if d := math.Abs(float64(want[i] - got[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("gradient %d: LossGrad %g, Grad %g", i, got[i], want[i])
		}
	}
}

// checkPixelGradient compares grad with central differences of loss at 12
// random pixels of x (seeded by s1, s2) whose gradient is not tiny, passing
// over pixels with a ReLU or max-pool kink within the step.
func checkPixelGradient(t *testing.T, grad, x []float32, loss func([]float32) float64, s1, s2 uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(s1, s2))
	const h = 2e-3
	f0 := loss(x)
	checked := 0
	for tries := 0; checked < 12 && tries < 1000; tries++ {
		j := rng.IntN(len(x))
		if math.Abs(float64(grad[j])) < 1e-3 {
			continue
		}
		orig := x[j]
		x[j] = orig + h
		up := loss(x)
		x[j] = orig - h
		down := loss(x)
		x[j] = orig
		fd := (up - down) / (2 * h)
		if l, r := (f0-down)/h, (up-f0)/h; math.Abs(l-r) > 0.1*math.Abs(fd)+1e-2 {
			continue // a ReLU or max-pool kink lies within h
		}
		if math.Abs(fd-float64(grad[j])) > 0.05*math.Abs(fd)+2e-3 {
			t.Errorf("pixel %d: gradient %g, central difference %g", j, grad[j], fd)
		}
		checked++
	}
	if checked < 12 {
		t.Fatalf("only %d pixels away from kinks", checked)
	}
}
