package fgsm

import (
	"strings"
	"testing"
)

func TestSanityWarnings(t *testing.T) {
	res := func(m Method, eps float64, correct int) *Result {
		c, err := Config{Method: m, Eps: eps, RandomStart: m == PGD}.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		return &Result{Config: c, Samples: 1000, Correct: correct}
	}
	mi := func(eps, momentum float64, correct int) *Result {
		c, err := Config{Method: MIFGSM, Eps: eps, Momentum: momentum}.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		return &Result{Config: c, Samples: 1000, Correct: correct}
	}
	for i, test := range []struct {
		results []*Result
		clean   int // disagreements on clean samples
		want    []string
	}{
		{results: []*Result{res(FGSM, 0.03, 600), res(FGSM, 0.1, 150), res(PGD, 0.03, 500), res(PGD, 0.1, 20)}},
		{results: []*Result{res(FGSM, 0.1, 150), res(PGD, 0.1, 400)}, want: []string{"above FGSM's 15.00%"}},
		{results: []*Result{res(FGSM, 0.03, 300), res(FGSM, 0.1, 500)}, want: []string{"accuracy rises from 30.00% at ε=0.03 to 50.00% at ε=0.1"}},
		{results: []*Result{res(PGD, 0.3, 400)}, want: []string{"near zero"}},
		{results: []*Result{res(FGSM, 0.1, 150)}, clean: 30, want: []string{"disagree on 30 of 1000 clean samples"}},
		{results: []*Result{res(FGSM, 0.1, 150), res(PGD, 0.1, 152)}}, // within the slack
		{results: []*Result{res(FGSM, 0.1, 940), res(PGD, 0.1, 40)}, want: []string{"above the clean 90.00%"}},
		// MI-FGSM with two momenta is two attacks: no "rises with ε".
		{results: []*Result{mi(0.03, 1.0, 200), mi(0.1, 0.5, 400)}},
		// BIM's α = ε/K at two budgets is one attack, though α/ε rounds to
		// 0.1 at one and 0.09999999999999999 at the other; and MI-FGSM at
		// one momentum likewise.
		{results: []*Result{res(BIM, 0.03, 300), res(BIM, 0.1, 500)}, want: []string{"accuracy rises from 30.00% at ε=0.03 to 50.00% at ε=0.1"}},
		{results: []*Result{mi(0.03, 1.0, 200), mi(0.1, 1.0, 400)}, want: []string{"accuracy rises from 20.00% at ε=0.03 to 40.00% at ε=0.1"}},
	} {
		r := &Report{Samples: 1000, CleanCorrect: 900, CleanDisagreement: test.clean, Runtime: "onnxruntime/cpu", Results: test.results}
		r.finish()
		checkWarnings(t, i, r.Warnings, test.want)
	}
}

// TestEnsembleWarnings checks AutoAttack's flags: Square breaking samples
// the gradient stages left, an ensemble weaker than PGD, and the checks.
func TestEnsembleWarnings(t *testing.T) {
	pgd, err := Config{Method: PGD, Eps: 0.1, RandomStart: true}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	aa := func(squareBroke, correct int) *EnsembleResult {
		e := Ensemble{Name: "autoattack", Norm: Linf, Eps: 0.1, Stages: []StageSpec{{Name: "apgd-ce"}, {Name: "square"}}}
		res := newEnsembleResult(e, 10)
		res.Samples, res.Correct = 1000, correct
		res.PerStage[1].Broken = squareBroke
		return res
	}
	for i, test := range []struct {
		ens    *EnsembleResult
		checks Checks
		want   []string
	}{
		{ens: aa(1, 300)},
		{ens: aa(40, 300), want: []string{"square, a black-box attack that reads only the outputs, broke 40 samples"}},
		{ens: aa(0, 500), want: []string{"above pgd ε=0.1"}},
		{ens: aa(0, 300), checks: Checks{GradientSamples: 900, ZeroGradients: 12}, want: []string{"12 of 900 correctly classified samples have an all-zero gradient"}},
		{ens: aa(0, 300), checks: Checks{GradientSamples: 900, NonFiniteGradients: 2}, want: []string{"NaN or infinite gradient"}},
		{ens: aa(0, 300), checks: Checks{ProbabilityRows: 1000}, want: []string{"look like probabilities"}},
		{ens: aa(0, 300), checks: Checks{ProbabilityRows: 999}},
		{ens: aa(0, 300), checks: Checks{Nondeterministic: 5}, want: []string{"autoattack-rand"}},
		{ens: aa(0, 300), checks: Checks{BlackBox: true}, want: []string{"black-box only"}},
	} {
		r := &Report{Samples: 1000, CleanCorrect: 900, Results: []*Result{{Config: pgd, Samples: 1000, Correct: 400}},
			Ensembles: []*EnsembleResult{test.ens}, Checks: test.checks}
		r.finish()
		checkWarnings(t, i, r.Warnings, test.want)
	}
}

// checkWarnings fails unless got holds one warning per want, each
// containing its want.
func checkWarnings(t *testing.T, i int, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("case %d: warnings %q, want %d containing %q", i, got, len(want), want)
		return
	}
	for j, w := range want {
		if !strings.Contains(got[j], w) {
			t.Errorf("case %d: warning %q does not contain %q", i, got[j], w)
		}
	}
}
