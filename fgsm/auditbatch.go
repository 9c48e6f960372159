package fgsm

import (
	"context"
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/runtime"
)

// batch audits one batch and returns its report; before is the number of
// samples audited earlier, for the examples kept.
func (a *auditor) batch(ctx context.Context, b *dataset.Batch, before int) (*Report, error) {
	r := newReport(a.skel)
	r.Checks.BlackBox = a.skel.Checks.BlackBox
	r.Shards = []Shard{{Start: b.Start, End: b.Start + b.N}}
	k, per := a.k, a.c*a.h*a.w
	for i, y := range b.Labels[:b.N] {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("sample %d has label %d but the model scores %d classes", b.Start+i, y, k)
		}
	}
	x := b.X[:b.N*per]
	// The deployed runtime's classification of the clean images; in self
	// mode the interpreter's forward pass is that check.
	deployed, err := a.score(nil, x, b.N)
	if err != nil {
		return nil, err
	}
	deployed = append([]float32(nil), deployed...)
	cleanPred := make([]int, b.N)
	for i := 0; i < b.N; i++ {
		y, p := b.Labels[i], runtime.Argmax(deployed[i*k:(i+1)*k])
		cleanPred[i] = p
		r.Samples++
		r.CleanPerClass[y].Samples++
		if p == y {
			r.CleanCorrect++
			r.CleanPerClass[y].Correct++
		}
	}
	// clean takes the model's logits for the clean images from the first
	// gradient pass at them (the checks', or an attack's that does not
	// start at random), and src the engine of that pass, for the
	// clean-disagreement diagnostic.
	var clean []float32
	var src string
	if len(a.skel.Ensembles) > 0 {
		if clean, src, err = a.checks(r, x, b.Labels[:b.N], cleanPred, deployed); err != nil {
			return nil, err
		}
	}
	for ai, c := range a.cfgs {
		o, err := a.attack(r.Results[ai], ai, c, b, x, cleanPred, r, before)
		if err != nil {
			return nil, err
		}
		if clean == nil && o.Clean != nil {
			clean, src = append([]float32(nil), o.Clean...), o.CleanEngine
		}
	}
	if err := a.cleanDisagreement(r, x, b.N, clean, src, cleanPred); err != nil {
		return nil, err
	}
	idx := indices(b.Start, b.N)
	for _, res := range r.Ensembles {
		e := res.Ensemble
		env := StageEnv{Attacker: a.atk, Score: a.score, Classes: k, C: a.c, H: a.h, W: a.w, Norm: e.Norm, Eps: e.Eps, Seed: a.opt.Seed}
		worst, err := runEnsemble(ctx, e, env,
			ensembleBatch{x: x, labels: b.Labels[:b.N], idx: idx, cleanPred: cleanPred, per: per}, res, a.opt.Log)
		if err != nil {
			return nil, err
		}
		for i := 0; i < b.N && before+i < a.opt.Examples; i++ {
			adv := worst[i*per : (i+1)*per]
			pred := cleanPred[i]
			for _, s := range res.Broken {
				if s.Index == b.Start+i {
					pred = s.Pred
				}
			}
			r.Examples = append(r.Examples, &Example{Index: b.Start + i, Attack: e.Name, Eps: e.Eps,
				Label: b.Labels[i], CleanPred: cleanPred[i], AdvPred: pred,
				Clean: append([]float32(nil), x[i*per:(i+1)*per]...), Adv: append([]float32(nil), adv...),
				C: a.c, H: a.h, W: a.w, Perturbed: true})
		}
	}
	return r, nil
}

// cleanDisagreement counts the clean samples that the model (clean, its
// logits from a gradient pass on engine src; nil when no gradient pass was
// at the clean images) and the runtime (cleanPred) classify differently,
// and records the engine compared in r.CleanLogits. Where no pass was, as
// when every attack starts at random, it runs the model's forward pass:
// one a batch, beside the attacks' many gradient passes. So it does with
// --cross-check (AuditOptions.CrossCheck) where the pass was not on the
// forward pass's engine (the gradient graph on ONNX Runtime, whose logits
// against the deployed runtime's are two ONNX Runtime sessions; the
// interpreter's forward pass is a check independent of ONNX Runtime). In
// self mode the interpreter classifies, and there is nothing to compare.
func (a *auditor) cleanDisagreement(r *Report, x []float32, n int, clean []float32, src string, cleanPred []int) error {
	if a.self || a.m == nil {
		return nil
	}
	if clean == nil || a.opt.CrossCheck && src != a.m.RunEngine() {
		var err error
		if clean, _, err = a.m.Logits(nil, x, n); err != nil {
			return err
		}
		src = a.m.RunEngine()
	}
	r.CleanLogits = src
	for i := 0; i < n; i++ {
		if runtime.Argmax(clean[i*a.k:(i+1)*a.k]) != cleanPred[i] {
			r.CleanDisagreement++
		}
	}
	return nil
}

// indices returns first, first+1, …: the data indices of n samples in a
// row, which seed their randomness in a stage.
func indices(first, n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = first + i
	}
	return idx
}

// attack runs one fixed-step attack on the batch and counts its results
// into res. The attacker classifies the adversarial images with the
// deployed runtime (a.atk.Check), so o.Logits are the runtime's scores.
func (a *auditor) attack(res *Result, ai int, c Config, b *dataset.Batch, x []float32, cleanPred []int, r *Report, before int) (*Outcome, error) {
	k, per := a.k, a.c*a.h*a.w
	o, err := a.atk.Attack(c, x, b.Labels[:b.N], b.N, b.Start)
	if err != nil {
		return nil, fmt.Errorf("%s on samples %d to %d: %w", c.Name(), b.Start, b.Start+b.N-1, err)
	}
	advOut := o.Logits
	var interpLogits []float32 // the interpreter's logits for o.Adv, when cross-checking
	if a.opt.CrossCheck && !a.self {
		if interpLogits, _, err = a.m.Logits(nil, o.Adv, b.N); err != nil {
			return nil, err
		}
		res.CrossChecked += b.N
	}
	for i := 0; i < b.N; i++ {
		y := b.Labels[i]
		p := runtime.Argmax(advOut[i*k : (i+1)*k])
		res.Samples++
		res.PerClass[y].Samples++
		if p == y {
			res.Correct++
			res.PerClass[y].Correct++
		}
		if interpLogits != nil && p != runtime.Argmax(interpLogits[i*k:(i+1)*k]) {
			res.Disagreements++
		}
		linf, l2 := norms(o.Adv[i*per:(i+1)*per], x[i*per:(i+1)*per])
		res.LinfSum += linf
		res.L2Sum += l2
		res.LinfMax = max(res.LinfMax, linf)
		res.L2Max = max(res.L2Max, l2)
		switch {
		case o.Skipped(i):
			res.Skipped++
		case cleanPred[i] == y:
			res.Eligible++
			if o.Targets == nil && p != y || o.Targets != nil && p == o.Targets[i] {
				res.Successes++
			}
		}
		if before+i < a.opt.Examples {
			r.Examples = append(r.Examples, &Example{Index: b.Start + i, Attack: string(c.Method), Eps: c.Eps,
				Label: y, CleanPred: cleanPred[i], AdvPred: p,
				Clean: append([]float32(nil), x[i*per:(i+1)*per]...), Adv: append([]float32(nil), o.Adv[i*per:(i+1)*per]...),
				C: a.c, H: a.h, W: a.w, Perturbed: !o.Skipped(i)})
		}
	}
	if a.opt.Sink != nil {
		return o, a.opt.Sink(ai, b, o)
	}
	return o, nil
}

// checks counts AutoAttack's sanity flags on a clean batch: outputs that
// change between two runs; scores the attacks' losses read (the logits
// before a final Softmax, which the interpreter skips; the deployed
// outputs for a black-box audit) that are probabilities; and correctly
// classified samples whose gradient (of the DLR loss, or cross-entropy
// below 3 classes) is zero or not finite. It returns the model's logits
// for x from that gradient pass and the engine that computed them, nil
// and "" when it has no model.
func (a *auditor) checks(r *Report, x []float32, labels, cleanPred []int, deployed []float32) ([]float32, string, error) {
	n, k := len(labels), a.k
	again, err := a.score(nil, x, n)
	if err != nil {
		return nil, "", err
	}
	for i := 0; i < n; i++ {
		for j := i * k; j < (i+1)*k; j++ {
			if d := math.Abs(float64(again[j] - deployed[j])); d > 1e-5*(1+math.Abs(float64(deployed[j]))) {
				r.Checks.Nondeterministic++
				break
			}
		}
	}
	if a.m == nil {
		countProbabilities(r, deployed, n, k)
		return nil, "", nil
	}
	per := a.m.Per()
	grad := make([]float32, len(x))
	var logits []float32 // the tensor the losses read: before a final Softmax
	src := a.m.GradEngine(k >= 3)
	if k >= 3 {
		logits, _, err = a.m.LossGrad(grad, nil, x, labels, n, func(d, row []float32, y, _ int) float64 { return dlrLoss(d, row, y) })
	} else {
		logits, _, err = a.m.Grad(grad, nil, x, labels, n)
	}
	if err != nil {
		return nil, "", err
	}
	countProbabilities(r, logits, n, k)
	for i, y := range labels {
		if cleanPred[i] != y {
			continue
		}
		r.Checks.GradientSamples++
		var l1 float64 // NaN or infinite when any component is
		for _, v := range grad[i*per : (i+1)*per] {
			l1 += math.Abs(float64(v))
		}
		switch {
		case !finite(l1):
			r.Checks.NonFiniteGradients++
		case l1 == 0:
			r.Checks.ZeroGradients++
		}
	}
	return logits, src, nil
}

// countProbabilities counts the rows of n×k scores that look like
// probabilities.
func countProbabilities(r *Report, scores []float32, n, k int) {
	for i := 0; i < n; i++ {
		if probabilities(scores[i*k : (i+1)*k]) {
			r.Checks.ProbabilityRows++
		}
	}
}

// probabilities says whether a row of outputs looks like a probability
// distribution: every value in [0,1] and the sum 1.
func probabilities(row []float32) bool {
	var s float64
	for _, v := range row {
		if v < -1e-5 || v > 1+1e-5 {
			return false
		}
		s += float64(v)
	}
	return math.Abs(s-1) < 1e-5
}
