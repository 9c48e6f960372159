package fgsm

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/onnxguard/onnxguard/runtime"
)

// AutoAttack (Croce & Hein, ICML 2020) is an ensemble of attacks run one
// after the other, each only on the samples the ones before left robust;
// a sample counts as robust only if it survives them all, so the
// ensemble's accuracy is the worst case over its stages.

// StageSpec is one stage of an ensemble with its settings; zero values
// mean the stage's own defaults.
type StageSpec struct {
	Name     string `json:"name"`
	Iters    int    `json:"iters,omitempty"` // queries for square
	Restarts int    `json:"restarts,omitempty"`
	Targets  int    `json:"targets,omitempty"`
	EOT      int    `json:"eot,omitempty"`
}

// Ensemble is an ensemble of stages at one budget.
type Ensemble struct {
	Name   string      `json:"attack"` // a version (autoattack, autoattack-plus, autoattack-rand) or a stage's name
	Norm   Norm        `json:"norm"`
	Eps    float64     `json:"eps"`
	Stages []StageSpec `json:"stages"`
}

// The versions of the reference implementation (autoattack.py,
// set_version), for L∞ and L2.
var versions = map[string][]StageSpec{
	// standard: one run of each, APGD-T and FAB-T over 9 target classes.
	"autoattack": {{Name: "apgd-ce", Restarts: 1}, {Name: "apgd-t", Restarts: 1, Targets: 9},
		{Name: "fab-t", Restarts: 1, Targets: 9}, {Name: "square", Iters: 5000, Restarts: 1}},
	// plus: five restarts of the untargeted attacks, then the targeted ones.
	"autoattack-plus": {{Name: "apgd-ce", Restarts: 5}, {Name: "apgd-dlr", Restarts: 5}, {Name: "fab", Restarts: 5},
		{Name: "square", Iters: 5000, Restarts: 1}, {Name: "apgd-t", Restarts: 1, Targets: 9}, {Name: "fab-t", Restarts: 1, Targets: 9}},
	// rand: for randomised models, gradients averaged over 20 draws.
	"autoattack-rand": {{Name: "apgd-ce", Restarts: 1, EOT: 20}, {Name: "apgd-dlr", Restarts: 1, EOT: 20}},
}

// blackBox names the stages that need only the deployed model's outputs.
var blackBox = map[string]bool{"square": true, "square-t": true}

// Versions lists the ensemble versions.
func Versions() []string { return slices.Sorted(maps.Keys(versions)) }

// IsEnsemble says whether name is an ensemble version or a stage, as
// opposed to one of the fixed-step attacks (Method).
func IsEnsemble(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	_, v := versions[name]
	_, s := stages[name]
	return v || s || knownStages[name]
}

// knownStages are the stages AutoAttack's versions use, registered or
// not in this build.
var knownStages = map[string]bool{"apgd-ce": true, "apgd-dlr": true, "apgd-t": true, "fab": true, "fab-t": true, "square": true}

// NewEnsemble returns the ensemble called name (a version, or a stage
// alone) at budget eps in norm. iters, when positive, replaces every
// stage's iterations (Square's queries), for quick runs. Every stage must
// be registered in this build.
func NewEnsemble(name string, norm Norm, eps float64, iters int) (Ensemble, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if norm != Linf && norm != L2 {
		return Ensemble{}, fmt.Errorf("%s: unknown norm %q: choose linf or l2", name, norm)
	}
	if !(eps > 0) || norm == Linf && eps > 1 {
		return Ensemble{}, fmt.Errorf("%s: ε=%g must be positive (and at most 1 for linf): it is a radius in pixel space [0,1]", name, eps)
	}
	if iters < 0 {
		return Ensemble{}, fmt.Errorf("%s: %d iterations: must not be negative", name, iters)
	}
	specs, ok := versions[name]
	if !ok {
		specs = []StageSpec{{Name: name}}
	}
	e := Ensemble{Name: name, Norm: norm, Eps: eps, Stages: append([]StageSpec(nil), specs...)}
	for i, s := range e.Stages {
		if _, ok := stages[s.Name]; !ok {
			if s.Name == name && !knownStages[name] {
				return Ensemble{}, fmt.Errorf("unknown attack %q: choose fgsm, bim, pgd, mifgsm, %s or a stage: %s",
					name, strings.Join(Versions(), ", "), strings.Join(StageNames(), ", "))
			}
			return Ensemble{}, fmt.Errorf("%s needs the stage %q, which this build does not include (it has %s)", name, s.Name, strings.Join(StageNames(), ", "))
		}
		if iters > 0 {
			e.Stages[i].Iters = iters
		}
	}
	return e, nil
}

// BlackBox says whether every stage needs only the model's outputs.
func (e Ensemble) BlackBox() bool {
	for _, s := range e.Stages {
		if !blackBox[s.Name] {
			return false
		}
	}
	return true
}

// Label is a short name such as "autoattack linf ε=0.1".
func (e Ensemble) Label() string { return fmt.Sprintf("%s %s ε=%g", e.Name, e.Norm, e.Eps) }

// ensembleBatch is one batch as an ensemble sees it.
type ensembleBatch struct {
	x         []float32
	labels    []int
	idx       []int // each sample's index in the data
	cleanPred []int // the deployed model's classes of the clean images
	per       int
}

// runEnsemble runs e on one batch, adding its counts to res. Each stage
// attacks the samples still robust; its adversarial examples count only
// when they lie within the budget and the deployed model (env.Score)
// misclassifies them. It returns each sample's worst case: the example
// that broke it, or the clean image.
func runEnsemble(ctx context.Context, e Ensemble, env StageEnv, b ensembleBatch, res *EnsembleResult, log func(string)) ([]float32, error) {
	n, per, k := len(b.labels), b.per, env.Classes
	worst := append([]float32(nil), b.x...)
	fallen := make([]bool, n) // misclassified clean, or broken by a stage
	for i, y := range b.labels {
		res.Samples++
		res.PerClass[y].Samples++
		fallen[i] = b.cleanPred[i] != y
		if fallen[i] {
			res.Broken = append(res.Broken, BrokenSample{Index: b.idx[i], Stage: "clean", Pred: b.cleanPred[i]})
		}
	}
	var scores []float32
	for si, spec := range e.Stages {
		out := &res.PerStage[si]
		rows := active(nil, fallen)
		if len(rows) > 0 {
			f, err := Stage(spec.Name)
			if err != nil {
				return nil, err
			}
			xs, ys, is := make([]float32, 0, len(rows)*per), make([]int, len(rows)), make([]int, len(rows))
			for p, i := range rows {
				xs = append(xs, b.x[i*per:(i+1)*per]...)
				ys[p], is[p] = b.labels[i], b.idx[i]
			}
			se := env
			se.Iters, se.Restarts, se.Targets, se.EOT = spec.Iters, spec.Restarts, spec.Targets, spec.EOT
			start := time.Now()
			r, err := f(ctx, &se, xs, ys, is)
			if err != nil {
				return nil, fmt.Errorf("%s: %s on samples %d to %d: %w", e.Label(), spec.Name, b.idx[0], b.idx[n-1], err)
			}
			if len(r.Adv) != len(xs) {
				return nil, fmt.Errorf("%s: %s returned %d pixel values for %d samples of %d", e.Label(), spec.Name, len(r.Adv), len(rows), per)
			}
			if scores, err = env.Score(scores, r.Adv, len(rows)); err != nil {
				return nil, err
			}
			out.Seconds += time.Since(start).Seconds()
			out.Attacked += len(rows)
			broken := 0
			for p, i := range rows {
				adv := r.Adv[p*per : (p+1)*per]
				if err := inBudget(adv, xs[p*per:(p+1)*per], e.Norm, e.Eps); err != nil {
					return nil, fmt.Errorf("%s: %s's example for sample %d %w", e.Label(), spec.Name, b.idx[i], err)
				}
				if pred := runtime.Argmax(scores[p*k : (p+1)*k]); pred != b.labels[i] {
					fallen[i] = true
					broken++
					copy(worst[i*per:(i+1)*per], adv)
					res.Broken = append(res.Broken, BrokenSample{Index: b.idx[i], Stage: spec.Name, Pred: pred})
				}
				res.addMinNorm(b.idx[i], r, p)
				if r.Queries != nil {
					out.Queries += int64(r.Queries[p])
				}
			}
			out.Broken += broken
			if log != nil {
				log(fmt.Sprintf("%s: %s broke %d of %d samples (%d to %d) in %.1fs", e.Label(), spec.Name, broken, len(rows), b.idx[0], b.idx[n-1], time.Since(start).Seconds()))
			}
		}
		for _, f := range fallen {
			if !f {
				out.Robust++
			}
		}
	}
	for i, f := range fallen {
		if !f {
			res.Correct++
			res.PerClass[b.labels[i]].Correct++
		}
		linf, l2 := norms(worst[i*per:(i+1)*per], b.x[i*per:(i+1)*per])
		res.LinfMax, res.L2Max = max(res.LinfMax, linf), max(res.L2Max, l2)
	}
	return worst, nil
}

// inBudget checks that adv lies in [0,1] and within eps of x in norm,
// allowing float32 rounding.
func inBudget(adv, x []float32, norm Norm, eps float64) error {
	for j, v := range adv {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("has pixel %d at %g, outside [0,1]", j, v)
		}
	}
	linf, l2 := norms(adv, x)
	size := linf
	if norm == L2 {
		size = l2
	}
	if size > eps*(1+1e-5)+1e-6 {
		return fmt.Errorf("lies %g from the clean image in %s, beyond ε=%g", size, norm, eps)
	}
	return nil
}

// addMinNorm keeps the smallest perturbation a minimum-norm stage found
// for sample p of its result r (index in the data).
func (res *EnsembleResult) addMinNorm(index int, r *StageResult, p int) {
	if r.MinLinf == nil && r.MinL2 == nil {
		return
	}
	res.MinNormSamples++
	m := MinNorm{Index: index, Linf: math.Inf(1), L2: math.Inf(1)}
	if r.MinLinf != nil {
		m.Linf = r.MinLinf[p]
	}
	if r.MinL2 != nil {
		m.L2 = r.MinL2[p]
	}
	if math.IsInf(m.Linf, 1) && math.IsInf(m.L2, 1) || math.IsNaN(m.Linf) || math.IsNaN(m.L2) {
		return // none found: the sample is counted, and lists no norm
	}
	for _, v := range []*float64{&m.Linf, &m.L2} {
		if math.IsInf(*v, 1) {
			*v = -1 // not measured (JSON has no infinity)
		}
	}
	res.MinNorms = append(res.MinNorms, m)
}
