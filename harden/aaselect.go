package harden

import (
	"context"
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/runtime"
)

// The probes that rank the adversarial recipes' epochs and guard against
// their collapse, measured on up to ProbeSamples validation samples after
// every epoch.
const (
	// ProbeAPGD is a fast AutoAttack subset: APGD-CE, then APGD-T on the
	// samples it left robust (Croce & Hein 2020), ProbeSteps iterations
	// each, over ProbeTargets target classes. A sample counts as robust
	// only if it survives both: the accuracy the full AutoAttack reports
	// is rarely far below it.
	ProbeAPGD = "apgd"
	// ProbePGD is K-step PGD with a random start, K = ProbeSteps.
	ProbePGD = "pgd"
)

// Defaults of the probes.
const (
	DefaultAPGDProbeSteps = 20
	DefaultProbeTargets   = 3
)

// normalizeProbe fills in and checks the probe's settings: apgd, 20
// iterations and 3 targets, on 512 samples, for the adversarial recipes;
// pgd takes 10 steps. Patience is the number of epochs in a row below the
// best epoch's robust accuracy that stops a run (robust overfitting,
// Rice et al. 2020); 0 never stops.
func (c *Config) normalizeProbe() error {
	if c.ProbeTargets < 0 || c.Patience < 0 {
		return fmt.Errorf("probe targets %d and patience %d must not be negative", c.ProbeTargets, c.Patience)
	}
	if !c.Recipe.Adversarial() {
		if c.ProbeSteps != 0 || c.ProbeSamples != 0 || c.Probe != "" || c.ProbeTargets != 0 || c.Patience != 0 {
			return fmt.Errorf("the robustness probe and patience apply to the adversarial recipes, not %s", c.Recipe)
		}
		return nil
	}
	c.Probe = strings.ToLower(strings.TrimSpace(c.Probe))
	switch c.Probe {
	case "", ProbeAPGD:
		c.Probe = ProbeAPGD
		c.ProbeSteps = defaultInt(c.ProbeSteps, DefaultAPGDProbeSteps)
		c.ProbeTargets = defaultInt(c.ProbeTargets, DefaultProbeTargets)
	case ProbePGD:
		if c.ProbeTargets != 0 {
			return fmt.Errorf("probe targets apply to the apgd probe only, not pgd")
		}
		c.ProbeSteps = defaultInt(c.ProbeSteps, DefaultProbeSteps)
	default:
		return fmt.Errorf("unknown probe %q: choose apgd (APGD-CE then APGD-T, a fast AutoAttack subset) or pgd", c.Probe)
	}
	c.ProbeSamples = defaultInt(c.ProbeSamples, DefaultProbeSamples)
	return nil
}

// probeName describes the probe for the history, e.g. "APGD-CE+APGD-T
// (20 iterations, 3 targets) on 512 samples".
func (t *trainer) probeName(n int) string {
	if t.cfg.Probe == ProbePGD {
		return fmt.Sprintf("%s on %d samples", t.probe.Name(), n)
	}
	return fmt.Sprintf("APGD-CE+APGD-T ε=%g (%d iterations, %d targets) on %d samples", t.cfg.Eps, t.cfg.ProbeSteps, t.cfg.ProbeTargets, n)
}

// apgdRobust runs APGD-CE and then APGD-T on the samples of x (labels y,
// the first at index lo of the validation data) that the model classifies
// correctly and returns how many survive both. Every sample's random
// start follows from the run's seed and its index alone, so the count is
// the same every epoch for the same weights, and after a resume.
func (t *trainer) apgdRobust(ctx context.Context, x []float32, y []int, lo int) (int, error) {
	m, n := t.model, len(y)
	per, k := m.Per(), t.atk.Classes()
	logits, err := m.Score(nil, x, n)
	if err != nil {
		return 0, err
	}
	robust := make([]bool, n)
	for i := range y {
		robust[i] = runtime.Argmax(logits[i*k:(i+1)*k]) == y[i]
	}
	env := fgsm.StageEnv{Attacker: t.atk, Score: m.Score, Classes: k, C: m.C, H: m.H, W: m.W,
		Norm: fgsm.Linf, Eps: t.cfg.Eps, Seed: t.cfg.Seed, Iters: t.cfg.ProbeSteps, Restarts: 1, Targets: t.cfg.ProbeTargets}
	for _, name := range []string{"apgd-ce", "apgd-t"} {
		var rows []int
		for i, r := range robust {
			if r {
				rows = append(rows, i)
			}
		}
		if len(rows) == 0 {
			break
		}
		stage, err := fgsm.Stage(name)
		if err != nil {
			return 0, err
		}
		xs, ys, is := make([]float32, 0, len(rows)*per), make([]int, len(rows)), make([]int, len(rows))
		for p, i := range rows {
			xs = append(xs, x[i*per:(i+1)*per]...)
			ys[p], is[p] = y[i], lo+i
		}
		r, err := stage(ctx, &env, xs, ys, is)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if logits, err = m.Score(logits, r.Adv, len(rows)); err != nil {
			return 0, err
		}
		for p, i := range rows {
			if runtime.Argmax(logits[p*k:(p+1)*k]) != y[i] {
				robust[i] = false
			}
		}
	}
	c := 0
	for _, r := range robust {
		if r {
			c++
		}
	}
	return c, nil
}

// overfitted returns why the run stops for robust overfitting, or "": the
// last Patience epochs each fell below the best epoch's robust accuracy.
func (t *trainer) overfitted() string {
	p := t.cfg.Patience
	if p == 0 || t.val == nil || len(t.history) <= p {
		return ""
	}
	best := t.robustAcc(t.history[t.bestEpoch])
	for _, e := range t.history[len(t.history)-p:] {
		if e.Epoch <= t.bestEpoch || t.robustAcc(e) >= best {
			return ""
		}
	}
	return fmt.Sprintf("robust overfitting: the probe's accuracy stayed below epoch %d's %.1f%% for %d epochs (patience %d); stopped and restored epoch %d",
		t.bestEpoch, 100*best, p, p, t.bestEpoch)
}

// robustAcc is an epoch's accuracy under the probe.
func (t *trainer) robustAcc(e Epoch) float64 {
	if t.cfg.Probe == ProbeAPGD {
		return e.ValAPGD
	}
	return e.ValPGD
}

// lastRobust is the probe's accuracy after the last epoch validated, -1
// when no probe runs.
func (t *trainer) lastRobust() float64 {
	if !t.cfg.Recipe.Adversarial() || t.val == nil || len(t.history) == 0 {
		return -1
	}
	return t.robustAcc(t.history[len(t.history)-1])
}
