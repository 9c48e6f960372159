package fgsm

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/onnxguard/onnxguard/runtime"
)

func init() { registerStage("fab-t", fabStage) }

// fabStream is FAB's constant in SampleRand's streams; a run's target rank
// and restart are folded into it.
const fabStream uint64 = 0xFAB7

// FABConfig sets up FAB-T, the targeted Fast Adaptive Boundary attack
// (Croce & Hein, ICML 2020), a minimum-norm attack: from the clean image it
// steps towards the linearised decision boundary between the true class and
// a target class, pulled back towards the clean image, and keeps the
// smallest adversarial perturbation it meets. Zero fields take the
// reference implementation's defaults.
type FABConfig struct {
	Norm     Norm // the norm minimised, Linf or L2; "" is Linf
	Iters    int  // steps per target and restart; 100
	Restarts int  // runs per target, the first from the clean image, the others from random starts; 1
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
	// random starts then use the reference's radius, 0.3 in L∞ and 1 in L2.
	Eps  float64
	Seed uint64
	// Progress, when set, is told how many samples are finished.
	Progress func(done, total int)
}

// normalize fills in the defaults for a model of k classes and checks the
// settings.
func (c FABConfig) normalize(k int) (FABConfig, error) {
	if c.Norm == "" {
		c.Norm = Linf
	}
	if c.Norm != Linf && c.Norm != L2 {
		return c, fmt.Errorf("FAB: norm %q: choose linf or l2", c.Norm)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Iters, 100)
	def(&c.Restarts, 1)
	def(&c.Targets, 9)
	c.Targets = min(c.Targets, k-1)
	for _, f := range []struct {
		v *float64
		d float64
	}{{&c.AlphaMax, 0.1}, {&c.Eta, 1.05}, {&c.Beta, 0.9}} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
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

// FAB runs FAB-T on the samples of x (N×C×H×W pixels in [0,1]) with their
// labels; idx[i] is sample i's index in the data, which seeds its random
// starts, so that results do not depend on batching. With cfg.Eps zero it
// is a minimum-norm attack with no budget: the robustness curve at any ε is
// the share of samples whose MinLinf (or MinL2) exceeds ε. m is used for
// the whole batch at once.
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

// rankTargets lists the classes other than y by falling logit.
func rankTargets(row []float32, y int) []int {
	out := make([]int, 0, len(row)-1)
	for c := range row {
		if c != y {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b int) int {
		switch {
		case row[a] > row[b]:
			return -1
		case row[a] < row[b]:
			return 1
		}
		return 0
	})
	return out
}

// fabRun is one call of FAB: its samples, settings and results.
type fabRun struct {
	m      *Model
	cfg    FABConfig
	x      []float32
	labels []int
	idx    []int
	res    *FABResult
	k, per int
	ranked [][]int // per sample, its targets in order; nil for a clean mistake

	proj   boxProjector
	d1, d2 []float64
}

// active lists the samples still to attack: correctly classified when
// clean and not yet broken within the budget.
func (f *fabRun) active() []int {
	var act []int
	for i := range f.labels {
		if f.ranked[i] == nil || f.cfg.Eps > 0 && f.res.MinNorm(f.cfg.Norm, i) <= f.cfg.Eps {
			continue
		}
		act = append(act, i)
	}
	return act
}

// fabChunk is how many samples each model pass of FAB holds. The
// interpreter's kernels take different paths for different batch sizes (a
// GEMM's tail rows, a threshold for parallel work), so the same sample can
// get gradients that differ in the last bit; FAB's steps use the gradient's
// values, not only its signs, and its iterations would grow such a
// difference into a different result. Passes of one fixed size, the last
// padded, keep a sample's arithmetic independent of the samples beside it,
// so that batching and shards do not change results. 32 costs little over
// larger passes and pads at most 31 samples.
const fabChunk = 32

// run attacks the samples act towards their target of the given rank,
// from the clean images (restart 0) or from random starts.
func (f *fabRun) run(ctx context.Context, act []int, rank, restart int) error {
	n, per := len(act), f.per
	b := fabChunk
	if f.m.fixed > 0 {
		b = f.m.fixed // the model pads to its own batch
	}
	padded := (n + b - 1) / b * b
	x0, x1 := make([]float32, padded*per), make([]float32, padded*per)
	lab, tgt := make([]int, padded), make([]int, padded)
	for j, i := range act {
		copy(x0[j*per:(j+1)*per], f.x[i*per:(i+1)*per])
		lab[j], tgt[j] = f.labels[i], f.ranked[i][rank]
	}
	copy(x1, x0)
	if restart > 0 {
		for j, i := range act {
			f.randomStart(x1[j*per:(j+1)*per], x0[j*per:(j+1)*per], f.idx[i], rank, restart)
		}
	}
	// The gradient of z_t − z_y, whose zero set is the boundary between the
	// true class and the target; the padding gets none.
	first := 0
	loss := func(dRow, row []float32, y, j int) float64 {
		if first+j >= n {
			return 0
		}
		t := tgt[first+j]
		dRow[t], dRow[y] = 1, -1
		return float64(row[t] - row[y])
	}
	f.d1, f.d2 = slices.Grow(f.d1[:0], per)[:per], slices.Grow(f.d2[:0], per)[:per]
	grad := make([]float32, b*per)
	var logits, after []float32
	var err error
	for it := 0; it < f.cfg.Iters; it++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for first = 0; first < n; first += b {
			xs := x1[first*per : (first+b)*per]
			if logits, _, err = f.m.LossGrad(grad, logits, xs, lab[first:first+b], b, loss); err != nil {
				return fmt.Errorf("FAB: %w", err)
			}
			for j := first; j < min(first+b, n); j++ {
				s, r := j*per, (j-first)*f.k
				diff := float64(logits[r+tgt[j]]) - float64(logits[r+lab[j]])
				f.step(x1[s:s+per], x0[s:s+per], grad[(j-first)*per:(j-first+1)*per], diff)
			}
			if after, _, err = f.m.Logits(after, xs, b); err != nil {
				return fmt.Errorf("FAB: %w", err)
			}
			for j := first; j < min(first+b, n); j++ {
				if runtime.Argmax(after[(j-first)*f.k:(j-first+1)*f.k]) == lab[j] {
					continue
				}
				s := j * per
				f.record(act[j], x1[s:s+per])
				// Step back towards the clean image to look for a closer point.
				for p := s; p < s+per; p++ {
					x1[p] = x0[p] + float32(f.cfg.Beta)*(x1[p]-x0[p])
				}
			}
		}
	}
	return nil
}

// step is one FAB step of one sample: project the current point x1 and the
// clean image x0 onto the boundary z_t − z_y = 0 linearised at x1 (value
// diff, gradient w) within the box, and move to the overshot projection of
// x1, pulled towards the overshot projection of x0 the more, the closer
// x0 is to the boundary than x1 (by at most α_max).
func (f *fabRun) step(x1, x0, w []float32, diff float64) {
	// The linearised boundary: diff + w·(z − x1) = 0.
	var wd float64
	for p, v := range w {
		wd += float64(v) * (float64(x0[p]) - float64(x1[p]))
	}
	f.proj.project(f.cfg.Norm, f.d1, x1, w, -diff)
	f.proj.project(f.cfg.Norm, f.d2, x0, w, -diff-wd)
	a1 := max(vecNorm(f.cfg.Norm, f.d1), 1e-8)
	a2 := max(vecNorm(f.cfg.Norm, f.d2), 1e-8)
	alpha := min(a1/(a1+a2), f.cfg.AlphaMax)
	eta := f.cfg.Eta
	for p := range x1 {
		v := (float64(x1[p])+eta*f.d1[p])*(1-alpha) + (float64(x0[p])+eta*f.d2[p])*alpha
		x1[p] = float32(min(max(v, 0), 1))
	}
}

// record keeps adv as sample i's result when it is closer to the clean
// image than the best so far.
func (f *fabRun) record(i int, adv []float32) {
	clean := f.x[i*f.per : (i+1)*f.per]
	var linf, l2 float64
	for p, v := range adv {
		d := float64(v) - float64(clean[p]) // exact, unlike a float32 difference
		linf, l2 = max(linf, math.Abs(d)), l2+d*d
	}
	l2 = math.Sqrt(l2)
	now := linf
	if f.cfg.Norm == L2 {
		now = l2
	}
	if now < f.res.MinNorm(f.cfg.Norm, i) {
		copy(f.res.Adv[i*f.per:(i+1)*f.per], adv)
		f.res.MinLinf[i], f.res.MinL2[i] = linf, l2
	}
}

// randomStart sets x1 to a random point at the start radius from x0, in
// the norm, clipped to [0,1]: uniform directions scaled to the radius in
// L∞, Gaussian ones in L2, as in the reference.
func (f *fabRun) randomStart(x1, x0 []float32, index, rank, restart int) {
	rng := SampleRand(f.cfg.Seed, index, fabStream^(uint64(rank)<<32|uint64(restart)))
	u := make([]float64, len(x1))
	for p := range u {
		if f.cfg.Norm == L2 {
			u[p] = rng.NormFloat64()
		} else {
			u[p] = 2*rng.Float64() - 1
		}
	}
	scale := f.cfg.startRadius() / max(vecNorm(f.cfg.Norm, u), 1e-12)
	for p := range x1 {
		x1[p] = clamp01(x0[p] + float32(scale*u[p]))
	}
}

// vecNorm is v's L∞ or L2 norm.
func vecNorm(norm Norm, v []float64) float64 {
	var s float64
	for _, x := range v {
		if norm == L2 {
			s += x * x
		} else {
			s = max(s, math.Abs(x))
		}
	}
	if norm == L2 {
		return math.Sqrt(s)
	}
	return s
}

// fabStage is FAB-T as a stage of an ensemble: the minimum-norm attack with
// env.Eps as its budget. A sample is broken when the smallest perturbation
// found is within Eps; its Adv is that point, and otherwise the clean
// image. MinLinf and MinL2 are the norms of the smallest perturbation
// found, whatever Eps. FAB-T is deterministic (EOT does not apply).
func fabStage(ctx context.Context, env *StageEnv, x []float32, labels, idx []int) (*StageResult, error) {
	if env.Attacker == nil {
		return nil, fmt.Errorf("fab-t needs gradients, and the interpreter cannot run this model: run the black-box attack (square) alone")
	}
	if !(env.Eps > 0) {
		return nil, fmt.Errorf("fab-t: budget ε = %g: must be positive", env.Eps)
	}
	cfg := FABConfig{Norm: env.Norm, Iters: env.Iters, Restarts: env.Restarts, Targets: env.Targets,
		Eps: env.Eps, Seed: env.Seed, Progress: env.Progress}
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
