package fgsm

import (
	"context"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// countingGradients counts the passes asked of a model: Run (a forward
// pass) and Grad (a gradient pass, which gives the logits too).
type countingGradients struct {
	Gradients
	runs, grads int
}

func (c *countingGradients) Run(x *interp.Tensor) ([]*interp.Tensor, error) {
	c.runs++
	return c.Gradients.Run(x)
}

func (c *countingGradients) Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error) {
	c.grads++
	return c.Gradients.Grad(x, labels, want)
}

// countedModel returns fmnist_cnn seen through a pass counter, and a
// second compilation of it that stands in for the deployed runtime.
func countedModel(t *testing.T) (*Model, *countingGradients, runtime.Engine) {
	t.Helper()
	m := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	cg := &countingGradients{Gradients: m.G}
	counted, err := NewModel(cg, m.Pre)
	if err != nil {
		t.Fatal(err)
	}
	deployed := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	return counted, cg, interp.Engine{P: deployed.G.(*interp.Program)}
}

// TestAttackPasses checks that an attack runs one gradient pass a step
// and, when a deployed runtime classifies its examples, no forward pass;
// that the clean logits come from the first gradient pass where it is at
// the clean images; and that the runtime's scores choose the same
// examples as the interpreter's.
func TestAttackPasses(t *testing.T) {
	m, cg, deployed := countedModel(t)
	x, labels := testfiles.FashionSlice(t, 20)
	n := len(labels)
	want, _, err := m.Logits(nil, x, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		cfg   Config
		grads int // per batch
		clean bool
	}{
		{Config{Method: FGSM, Eps: 0.1}, 1, true},
		{Config{Method: BIM, Eps: 0.1, Steps: 4}, 4, true},
		{Config{Method: PGD, Eps: 0.1, Steps: 3}, 3, true},
		{Config{Method: PGD, Eps: 0.1, Steps: 3, RandomStart: true, Restarts: 2}, 6, false},
		{Config{Method: MIFGSM, Eps: 0.1, Steps: 2, Target: Target{Mode: "next"}}, 2, true},
	} {
		c, err := test.cfg.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		var adv [2][]float32
		for i, check := range []Scorer{EngineScorer(deployed, m.Pre, m.C, m.H, m.W, 10), nil} {
			a, err := NewAttacker(m, 3)
			if err != nil {
				t.Fatal(err)
			}
			a.Check = check
			cg.runs, cg.grads = 0, 0
			o, err := a.Attack(c, x, labels, n, 0)
			if err != nil {
				t.Fatal(err)
			}
			runs := 0 // the deployed runtime classifies
			if check == nil {
				runs = max(c.Restarts, 1) // the interpreter classifies each restart's examples
			}
			if cg.grads != test.grads || cg.runs != runs {
				t.Errorf("%s, checked by the runtime %t: %d gradient and %d forward passes, want %d and %d",
					c.Name(), check != nil, cg.grads, cg.runs, test.grads, runs)
			}
			if got := o.Clean != nil; got != test.clean {
				t.Errorf("%s: clean logits from the gradient pass %t, want %t", c.Name(), got, test.clean)
			} else if got && maxDiff(t, c.Name()+" clean logits", o.Clean, want) > 1e-5 {
				t.Errorf("%s: the gradient pass's clean logits differ from the forward pass's", c.Name())
			}
			adv[i] = slices.Clone(o.Adv)
		}
		if !slices.Equal(adv[0], adv[1]) {
			t.Errorf("%s: the runtime's scores chose other examples than the interpreter's", c.Name())
		}
	}
}

// TestAuditPasses counts an audit's passes through the interpreter: with
// a deployed runtime, the attacks' gradient passes and, for the
// clean-disagreement diagnostic, one forward pass a batch only where no
// gradient pass was at the clean images; --cross-check adds one forward
// pass an attack and batch. The counts are those of the interpreter
// classifying alone.
func TestAuditPasses(t *testing.T) {
	m, cg, deployed := countedModel(t)
	images, labelsPath := writeSlice(t, 60)
	fgsm := Config{Method: FGSM, Eps: 0.05}
	pgd := Config{Method: PGD, Eps: 0.05, Steps: 3, RandomStart: true}
	bim := Config{Method: BIM, Eps: 0.05, Steps: 2}
	const batches = 2
	for _, test := range []struct {
		attacks     []Config
		check, xchk bool
		grads, runs int // per batch, besides the one forward pass that finds the classes
	}{
		{[]Config{fgsm}, true, false, 1, 0},
		{[]Config{pgd}, true, false, 3, 1},
		{[]Config{pgd, bim}, true, false, 5, 0},
		{[]Config{fgsm, pgd}, true, true, 4, 2},
		{[]Config{fgsm, pgd}, false, false, 4, 1 + 2}, // the clean images' check, then each attack's
	} {
		src, err := dataset.Open(images, &dataset.Options{Labels: labelsPath})
		if err != nil {
			t.Fatal(err)
		}
		opt := AuditOptions{Attacks: test.attacks, Batch: 60 / batches, Seed: 5, CrossCheck: test.xchk}
		if test.check {
			opt.Check, opt.RuntimeName = deployed, "deployed"
		}
		cg.runs, cg.grads = 0, 0
		r, err := Audit(context.Background(), m, src, opt)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := r.Results[0].Name()
		if g, rn := cg.grads, cg.runs-1; g != batches*test.grads || rn != batches*test.runs {
			t.Errorf("%s (runtime %t, cross-check %t): %d gradient and %d forward passes, want %d and %d",
				name, test.check, test.xchk, g, rn, batches*test.grads, batches*test.runs)
		}
		if r.CleanDisagreement != 0 {
			t.Errorf("%s: %d clean disagreements between two compilations of one model", name, r.CleanDisagreement)
		}
		for _, res := range r.Results {
			if want := map[bool]int{true: res.Samples}[test.xchk]; res.CrossChecked != want || res.Disagreements != 0 {
				t.Errorf("%s: %d of %d cross-checked, %d disagreements; want %d, 0", res.Name(), res.CrossChecked, res.Samples, res.Disagreements, want)
			}
		}
	}
}
