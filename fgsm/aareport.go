package fgsm

import (
	"fmt"
	"math"
	"reflect"
	"sort"
)

// EnsembleResult is one ensemble (or one stage alone) at one budget.
// Counts and lists are kept beside the rates they give so that shard
// reports merge exactly.
type EnsembleResult struct {
	Ensemble
	Samples int `json:"samples"`
	// Correct counts the samples robust after every stage: the worst case
	// over the ensemble, its robust accuracy.
	Correct  int            `json:"correct"`
	Accuracy float64        `json:"accuracy"`
	PerClass []ClassCount   `json:"per_class"`
	PerStage []StageOutcome `json:"per_stage"`
	// LinfMax and L2Max are the largest perturbations of the worst cases
	// kept; they never exceed ε in the ensemble's norm.
	LinfMax float64 `json:"linf_max"`
	L2Max   float64 `json:"l2_max"`
	// Broken lists, by index, every sample not robust and what broke it:
	// "clean" for a clean mistake, else the stage.
	Broken []BrokenSample `json:"broken"`
	// MinNormSamples counts the samples a minimum-norm stage (FAB) ran
	// on, MinNorms the smallest perturbations it found among them;
	// MinLinf and MinL2 summarise those.
	MinNormSamples int          `json:"min_norm_samples,omitempty"`
	MinNorms       []MinNorm    `json:"min_norms,omitempty"`
	MinLinf        *NormSummary `json:"min_linf,omitempty"`
	MinL2          *NormSummary `json:"min_l2,omitempty"`
}

// StageOutcome is what one stage of an ensemble did.
type StageOutcome struct {
	Name     string `json:"name"`
	Attacked int    `json:"attacked"` // samples still robust when it ran
	Broken   int    `json:"broken"`
	// Robust counts the samples robust after this stage; Accuracy is
	// Robust over all samples, the ensemble's accuracy so far.
	Robust   int     `json:"robust"`
	Accuracy float64 `json:"accuracy"`
	Seconds  float64 `json:"seconds"`           // summed over batches (and shards)
	Queries  int64   `json:"queries,omitempty"` // model queries of a black-box stage
}

// BrokenSample is one sample the ensemble does not count as robust.
type BrokenSample struct {
	Index int    `json:"index"`
	Stage string `json:"stage"`
	Pred  int    `json:"pred"` // the deployed model's class of the example
}

// MinNorm is the smallest perturbation found for one sample, −1 for a
// norm the stage did not measure.
type MinNorm struct {
	Index int     `json:"index"`
	Linf  float64 `json:"linf"`
	L2    float64 `json:"l2"`
}

// NormSummary describes the distribution of the smallest perturbations
// found, over the samples where one was found.
type NormSummary struct {
	Found     int       `json:"found"`
	Median    float64   `json:"median"`
	Quantiles []float64 `json:"quantiles"` // 10%, 25%, 50%, 75%, 90%
}

// Checks counts the signs, beside the attacks' figures, that an
// evaluation may mislead (AutoAttack's flags).
type Checks struct {
	// ProbabilityRows counts clean samples whose scores, as the attacks'
	// losses read them, lie in [0,1] and sum to 1: probabilities, not
	// logits (counted with ensembles only).
	ProbabilityRows int `json:"probability_rows"`
	// Nondeterministic counts clean samples whose outputs differ between
	// two runs of the deployed model.
	Nondeterministic int `json:"nondeterministic_rows"`
	// GradientSamples counts the correctly classified samples whose
	// gradient at the clean image was checked; ZeroGradients and
	// NonFiniteGradients those of them with an all-zero or a NaN or
	// infinite one.
	GradientSamples    int `json:"gradient_samples"`
	ZeroGradients      int `json:"zero_gradients"`
	NonFiniteGradients int `json:"nonfinite_gradients"`
	// BlackBox is set when the interpreter cannot run the model, so only
	// black-box attacks (Square) ran.
	BlackBox bool `json:"black_box,omitempty"`
}

func newEnsembleResult(e Ensemble, k int) *EnsembleResult {
	res := &EnsembleResult{Ensemble: e, PerClass: classes(k), Broken: []BrokenSample{}}
	for _, s := range e.Stages {
		res.PerStage = append(res.PerStage, StageOutcome{Name: s.Name})
	}
	return res
}

// add adds the counts of o, the same ensemble on other samples.
func (res *EnsembleResult) add(o *EnsembleResult) {
	res.Samples += o.Samples
	res.Correct += o.Correct
	addClasses(res.PerClass, o.PerClass)
	for i, s := range o.PerStage {
		d := &res.PerStage[i]
		d.Attacked += s.Attacked
		d.Broken += s.Broken
		d.Robust += s.Robust
		d.Seconds += s.Seconds
		d.Queries += s.Queries
	}
	res.LinfMax, res.L2Max = max(res.LinfMax, o.LinfMax), max(res.L2Max, o.L2Max)
	res.Broken = append(res.Broken, o.Broken...)
	res.MinNormSamples += o.MinNormSamples
	res.MinNorms = append(res.MinNorms, o.MinNorms...)
}

// compatibleEnsemble checks that o is the same ensemble as e.
func compatibleEnsemble(e, o *EnsembleResult) error {
	if !reflect.DeepEqual(e.Ensemble, o.Ensemble) || len(e.PerClass) != len(o.PerClass) || len(e.PerStage) != len(o.PerStage) {
		return fmt.Errorf("ensemble %s differs from the first report's %s", o.Label(), e.Label())
	}
	return nil
}

// finish derives the rates and summaries from the counts.
func (res *EnsembleResult) finish() {
	res.Accuracy = rate(res.Correct, res.Samples)
	finishClasses(res.PerClass)
	for i := range res.PerStage {
		res.PerStage[i].Accuracy = rate(res.PerStage[i].Robust, res.Samples)
	}
	sort.SliceStable(res.Broken, func(i, j int) bool { return res.Broken[i].Index < res.Broken[j].Index })
	sort.SliceStable(res.MinNorms, func(i, j int) bool { return res.MinNorms[i].Index < res.MinNorms[j].Index })
	res.MinLinf = summarise(res.MinNorms, func(m MinNorm) float64 { return m.Linf })
	res.MinL2 = summarise(res.MinNorms, func(m MinNorm) float64 { return m.L2 })
}

func summarise(ms []MinNorm, get func(MinNorm) float64) *NormSummary {
	var v []float64
	for _, m := range ms {
		if d := get(m); d >= 0 {
			v = append(v, d)
		}
	}
	if len(v) == 0 {
		return nil
	}
	sort.Float64s(v)
	q := func(p float64) float64 { return v[min(len(v)-1, int(math.Floor(p*float64(len(v)-1)+0.5)))] }
	s := &NormSummary{Found: len(v), Quantiles: []float64{q(0.1), q(0.25), q(0.5), q(0.75), q(0.9)}}
	s.Median = s.Quantiles[2]
	return s
}

// MinNormCurve returns, for a result whose minimum-norm stage ran on every
// correctly classified sample, the accuracy at each ε of epss that those
// minima imply (a sample is robust at ε when its smallest perturbation
// found in the ensemble's norm exceeds ε, or none was found), and false
// otherwise. cleanCorrect is the number of correctly classified samples.
func (res *EnsembleResult) MinNormCurve(cleanCorrect int, epss []float64) ([]float64, bool) {
	if res.MinNormSamples == 0 || res.MinNormSamples != cleanCorrect || res.Samples == 0 {
		return nil, false
	}
	out := make([]float64, len(epss))
	for i, e := range epss {
		broken := 0
		for _, m := range res.MinNorms {
			d := m.Linf
			if res.Norm == L2 {
				d = m.L2
			}
			if d >= 0 && d <= e {
				broken++
			}
		}
		out[i] = rate(cleanCorrect-broken, res.Samples)
	}
	return out, true
}

// ensembleWarnings returns the sanity flags of the ensembles and of the
// checks: Square breaking what the gradient attacks could not, an
// ensemble weaker than PGD, zero or non-finite gradients, probabilities
// for logits, a random model.
func (r *Report) ensembleWarnings(slack func(int) int) []string {
	var w []string
	for _, res := range r.Ensembles {
		gradient := false
		for i, s := range res.PerStage {
			if blackBox[s.Name] && gradient && s.Broken > slack(res.Samples) {
				w = append(w, fmt.Sprintf("%s: %s, a black-box attack that reads only the outputs, broke %d samples (%.2f%%) that the gradient attacks before it could not: the gradients mislead (gradient masking); trust the ensemble's figure, and consider more Square queries or an adaptive attack",
					res.Label(), s.Name, s.Broken, 100*rate(s.Broken, res.Samples)))
			}
			gradient = gradient || !blackBox[res.Stages[i].Name]
		}
		for _, c := range r.Results {
			if res.Norm == Linf && c.Method == PGD && c.Target.Mode == "" && c.Eps == res.Eps && res.Correct > c.Correct+slack(res.Samples) {
				w = append(w, fmt.Sprintf("%s leaves accuracy at %.2f%%, above %s's %.2f%%: the ensemble should be at least as strong as PGD; check that its stages ran fully",
					res.Label(), 100*res.Accuracy, c.Name(), 100*c.Accuracy))
			}
		}
	}
	c := r.Checks
	if c.ZeroGradients > 0 {
		w = append(w, fmt.Sprintf("%d of %d correctly classified samples have an all-zero gradient at the clean image: gradient attacks cannot move them, so their robustness may be overstated (a saturated or quantised model); the black-box square attack does not need gradients",
			c.ZeroGradients, c.GradientSamples))
	}
	if c.NonFiniteGradients > 0 {
		w = append(w, fmt.Sprintf("%d of %d correctly classified samples have a NaN or infinite gradient at the clean image: the gradient attacks' figures are unreliable for them",
			c.NonFiniteGradients, c.GradientSamples))
	}
	if r.Samples > 0 && c.ProbabilityRows == r.Samples {
		w = append(w, "the scores the attacks read look like probabilities (each row in [0,1], summing to 1), not logits: losses on probabilities saturate and mask the gradients; audit the model without its final normalisation")
	}
	if c.Nondeterministic > 0 {
		w = append(w, fmt.Sprintf("the deployed model gave different outputs for %d of %d clean samples run twice: it is randomised (active dropout?); use autoattack-rand, which averages gradients over 20 draws, and expect figures to vary between runs",
			c.Nondeterministic, r.Samples))
	}
	if c.BlackBox {
		w = append(w, "black-box only: the interpreter cannot run this model, so no gradient attack ran; Square's figure is an upper bound on robust accuracy")
	}
	return w
}

func (c *Checks) add(o Checks) {
	c.ProbabilityRows += o.ProbabilityRows
	c.Nondeterministic += o.Nondeterministic
	c.GradientSamples += o.GradientSamples
	c.ZeroGradients += o.ZeroGradients
	c.NonFiniteGradients += o.NonFiniteGradients
	c.BlackBox = c.BlackBox || o.BlackBox
}
