package fgsm

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/onnxguard/onnxguard/runtime"
)

func init() {
	registerStage("fab-t", fabStage(false))
	registerStage("fab", fabStage(true))
}

// fabStream is FAB's constant in SampleRand's streams; a run's target rank
// and restart are folded into it.
const fabStream uint64 = 0xFAB7

// FABConfig sets up FAB, the Fast Adaptive Boundary attack (Croce & Hein,
// ICML 2020), a minimum-norm attack: from the clean image it steps towards
// the linearised decision boundary between the true class and another,
// pulled back towards the clean image, and keeps the smallest adversarial
// perturbation it meets. FAB-T, AutoAttack's form, attacks towards each of
// the classes the model ranks highest after the true one in turn, one
// gradient per step; untargeted FAB steps towards the closest boundary of
// all, K−1 gradients per step. Zero fields take the reference
// implementation's defaults.
type FABConfig struct {
	Norm       Norm // the norm minimised, Linf or L2; "" is Linf
	Untargeted bool // FAB rather than FAB-T; Targets is then unused
	Iters      int  // steps per target and restart; 100
	Restarts   int  // runs per target, the first from the clean image, the others from random starts; 1
	// Targets is how many target classes each sample is attacked towards:
	// those with the highest clean logits after the true class; 9, and at
	// most K−1.
	Targets int
	// AlphaMax bounds the pull towards the clean image, Eta the overshoot
	// past the linearised boundary, Beta the step back towards the clean
	// image after an adversarial point; 0.1, 1.05 and 0.9.
	AlphaMax, Eta, Beta float64
	// Eps, when positive, is a budget: a sample whose smallest perturbation
	// found is within Eps (in Norm) is not attacked with further targets
	// and restarts, as AutoAttack's FAB-T does, and random starts lie
	// Eps/2 from the clean image. Zero attacks every sample with every
	// target and restart, for the best minimum norms (robustness curves);
	// random starts then lie half the reference's default ε away, 0.15 in
	// L∞ and 0.5 in L2.
	Eps  float64
	Seed uint64
	// Progress, when set, is told how many samples are finished.
	Progress func(done, total int)
}

// normalize fills in the defaults for a model of k classes and checks the
// settings.
func (c FABConfig) normalize(k int) (FABConfig, error) {
	c.Norm = cmp.Or(c.Norm, Linf)
	if c.Norm != Linf && c.Norm != L2 {
		return c, fmt.Errorf("FAB: norm %q: choose linf or l2", c.Norm)
	}
	c.Iters, c.Restarts, c.Targets = cmp.Or(c.Iters, 100), cmp.Or(c.Restarts, 1), min(cmp.Or(c.Targets, 9), k-1)
	if c.Untargeted {
		c.Targets = 1 // one run per restart, towards every class
	}
	c.AlphaMax, c.Eta, c.Beta = cmp.Or(c.AlphaMax, 0.1), cmp.Or(c.Eta, 1.05), cmp.Or(c.Beta, 0.9)
	switch {
	case c.Iters < 0 || c.Restarts < 0 || c.Targets < 0:
		return c, fmt.Errorf("FAB: %d iterations, %d restarts, %d targets: each must be positive (0 for the default)", c.Iters, c.Restarts, c.Targets)
	case !(c.AlphaMax > 0 && c.AlphaMax <= 1) || !(c.Eta >= 1) || !(c.Beta > 0 && c.Beta < 1):
		return c, fmt.Errorf("FAB: α_max %g, η %g, β %g: need 0 < α_max ≤ 1, η ≥ 1 and 0 < β < 1", c.AlphaMax, c.Eta, c.Beta)
	case c.Eps < 0 || math.IsNaN(c.Eps):
		return c, fmt.Errorf("FAB: budget %g: must be positive, or 0 for none", c.Eps)
	}
	return c, nil
}

// startRadius is the distance of a random start from the clean image.
func (c FABConfig) startRadius() float64 {
	switch {
	case c.Eps > 0:
		return c.Eps / 2
	case c.Norm == L2:
		return 0.5
	}
	return 0.15
}

// FABResult is, per sample, the smallest adversarial perturbation FAB
// found, smallest in the norm it minimised.
type FABResult struct {
	// Adv holds x+δ for that perturbation δ, in [0,1], and the clean image
	// where none was found or the clean image is already misclassified.
	Adv []float32
	// MinLinf and MinL2 are δ's L∞ and L2 norms (both of the same δ), +Inf
	// where none was found and 0 where the clean image is misclassified.
	MinLinf, MinL2 []float64
}

// MinNorm returns sample i's smallest perturbation found, in norm.
func (r *FABResult) MinNorm(norm Norm, i int) float64 {
	if norm == L2 {
		return r.MinL2[i]
	}
	return r.MinLinf[i]
}

// FAB runs FAB-T (or FAB) on the samples of x (N×C×H×W pixels in [0,1]) with their
// labels; idx[i] is sample i's index in the data, which seeds its random
// starts, so that results do not depend on batching. With cfg.Eps zero it
// is a minimum-norm attack with no budget: the robustness curve at any ε is
// the share of samples whose MinLinf (or MinL2) exceeds ε.
func FAB(ctx context.Context, m *Model, cfg FABConfig, x []float32, labels, idx []int) (*FABResult, error) {
	n, per := len(labels), m.Per()
	if len(x) != n*per || len(idx) != n {
		return nil, fmt.Errorf("FAB: %d pixels, %d labels and %d indices for samples of %d values", len(x), n, len(idx), per)
	}
	res := &FABResult{Adv: slices.Clone(x), MinLinf: make([]float64, n), MinL2: make([]float64, n)}
	if n == 0 {
		return res, nil
	}
	clean, k, err := m.Logits(nil, x, n)
	if err != nil {
		return nil, fmt.Errorf("FAB: classifying the clean images: %w", err)
	}
	if cfg, err = cfg.normalize(k); err != nil {
		return nil, err
	}
	f := &fabRun{m: m, cfg: cfg, x: x, labels: labels, idx: idx, res: res, k: k, per: per, ranked: make([][]int, n)}
	for i, y := range labels {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("FAB: sample %d has label %d but the model scores %d classes", idx[i], y, k)
		}
		row := clean[i*k : (i+1)*k]
		if runtime.Argmax(row) != y {
			continue // already misclassified: its minimum is 0, the clean image
		}
		res.MinLinf[i], res.MinL2[i] = math.Inf(1), math.Inf(1)
		f.ranked[i] = rankTargets(row, y)
	}
	runs := cfg.Targets * cfg.Restarts
	for run := 0; run < runs; run++ {
		act := f.active()
		if len(act) == 0 {
			break
		}
		if err := f.run(ctx, act, run/cfg.Restarts, run%cfg.Restarts); err != nil {
			return nil, err
		}
		if cfg.Progress != nil && run < runs-1 {
			cfg.Progress(n-len(f.active()), n)
		}
	}
	if cfg.Progress != nil {
		cfg.Progress(n, n)
	}
	return res, nil
}

// fabStage returns FAB-T (or, untargeted, FAB) as a stage of an ensemble:
// the minimum-norm attack with env.Eps as its budget. A sample is broken
// when the smallest perturbation found is within Eps; its Adv is that
// point, and otherwise the clean image. MinLinf and MinL2 are the norms of
// the smallest perturbation found, whatever Eps. FAB is deterministic, so
// EOT does not apply; AutoAttack runs it only on deterministic models.
func fabStage(untargeted bool) StageFunc {
	name := "fab-t"
	if untargeted {
		name = "fab"
	}
	return func(ctx context.Context, env *StageEnv, x []float32, labels, idx []int) (*StageResult, error) {
		if env.Attacker == nil {
			return nil, needsGradients(name)
		}
		if !(env.Eps > 0) {
			return nil, fmt.Errorf("%s: budget ε = %g: must be positive", name, env.Eps)
		}
		cfg := FABConfig{Norm: env.Norm, Untargeted: untargeted, Iters: env.Iters, Restarts: env.Restarts,
			Targets: env.Targets, Eps: env.Eps, Seed: env.Seed, Progress: env.Progress}
		r, err := FAB(ctx, env.Attacker.M, cfg, x, labels, idx)
		if err != nil {
			return nil, err
		}
		per := env.Attacker.M.Per()
		adv := slices.Clone(x)
		for i := range labels {
			if d := r.MinNorm(cfg.Norm, i); d > 0 && d <= env.Eps {
				copy(adv[i*per:(i+1)*per], r.Adv[i*per:(i+1)*per])
			}
		}
		return &StageResult{Adv: adv, MinLinf: r.MinLinf, MinL2: r.MinL2}, nil
	}
}
