package fgsm

import (
	"context"
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/runtime"
)

// The APGD stages of AutoAttack: APGD on cross-entropy and on DLR,
// untargeted, and APGD-T, APGD on the targeted DLR loss toward each of the
// classes the clean image scores highest after its label.
func init() {
	registerStage("apgd-ce", apgdStage("ce"))
	registerStage("apgd-dlr", apgdStage("dlr"))
	registerStage("apgd-t", apgdTargeted)
}

// The APGD defaults of the reference implementation.
const (
	apgdIters   = 100
	apgdTargets = 9
)

// Streams of the stages' random starts (SampleRand); a run's stream adds
// its target rank and restart, so that no two runs share a start.
const (
	apgdCEStream  = 0xA6D0C0000
	apgdDLRStream = 0xA6D0D0000
	apgdTStream   = 0xA6D070000
)

// apgdSetup checks what every APGD stage needs and returns the run's
// settings and one sample's size.
func apgdSetup(env *StageEnv, loss string, x []float32, labels, idx []int) (apgdConfig, int, error) {
	name := map[string]string{"ce": "apgd-ce", "dlr": "apgd-dlr", "dlr-t": "apgd-t"}[loss]
	per := env.C * env.H * env.W
	switch {
	case env.Attacker == nil:
		return apgdConfig{}, 0, needsGradients(name)
	case env.Eps <= 0 || env.Norm != Linf && env.Norm != L2:
		return apgdConfig{}, 0, fmt.Errorf("%s: budget ε=%g in norm %q: give ε > 0 in linf or l2", name, env.Eps, env.Norm)
	case per == 0 || len(x) != len(labels)*per || len(idx) != len(labels):
		return apgdConfig{}, 0, fmt.Errorf("%s: %d pixel values, %d labels and %d indices for samples of %d×%d×%d", name, len(x), len(labels), len(idx), env.C, env.H, env.W)
	}
	if err := needClasses(loss, env.Classes); err != nil {
		return apgdConfig{}, 0, fmt.Errorf("%s: %w", name, err)
	}
	iters := env.Iters
	if iters <= 0 {
		iters = apgdIters
	}
	return apgdConfig{Norm: env.Norm, Eps: env.Eps, Iters: iters}, per, nil
}

// apgdStage is untargeted APGD on loss ("ce" or "dlr").
func apgdStage(loss string) StageFunc {
	stream := uint64(apgdCEStream)
	if loss == "dlr" {
		stream = apgdDLRStream
	}
	return func(ctx context.Context, env *StageEnv, x []float32, labels, idx []int) (*StageResult, error) {
		cfg, per, err := apgdSetup(env, loss, x, labels, idx)
		if err != nil {
			return nil, err
		}
		obj := &modelObjective{m: env.Attacker.M, loss: loss, labels: labels, eot: max(env.EOT, 1)}
		res := &StageResult{Adv: append([]float32(nil), x...)}
		broken := make([]bool, len(labels))
		restarts := max(env.Restarts, 1)
		for r := 0; r < restarts; r++ {
			if err := apgdRestart(ctx, obj, cfg, env.Seed, stream+uint64(r), x, idx, per, res.Adv, broken); err != nil {
				return nil, err
			}
			apgdProgress(env, broken, r == restarts-1)
		}
		return res, nil
	}
}

// apgdTargeted is APGD-T: targeted DLR toward the classes with the
// highest clean logits other than the label, each in turn on the samples
// not yet broken, Targets of them (9 by default, at most K−1).
func apgdTargeted(ctx context.Context, env *StageEnv, x []float32, labels, idx []int) (*StageResult, error) {
	cfg, per, err := apgdSetup(env, "dlr-t", x, labels, idx)
	if err != nil {
		return nil, err
	}
	n, k := len(labels), env.Classes
	clean, _, err := env.Attacker.M.Logits(nil, x, n)
	if err != nil {
		return nil, err
	}
	ranked := make([][]int, n) // per sample, the classes other than its label by decreasing clean logit
	for i := range ranked {
		ranked[i] = rankTargets(clean[i*k:(i+1)*k], labels[i])
	}
	targets := env.Targets
	if targets <= 0 {
		targets = apgdTargets
	}
	targets = min(targets, k-1)
	obj := &modelObjective{m: env.Attacker.M, loss: "dlr-t", labels: labels, targets: make([]int, n), eot: max(env.EOT, 1)}
	res := &StageResult{Adv: append([]float32(nil), x...)}
	broken := make([]bool, n)
	restarts := max(env.Restarts, 1)
	for t := 0; t < targets; t++ {
		for i := range obj.targets {
			obj.targets[i] = ranked[i][t]
		}
		for r := 0; r < restarts; r++ {
			stream := apgdTStream + uint64(t)<<8 + uint64(r)
			if err := apgdRestart(ctx, obj, cfg, env.Seed, stream, x, idx, per, res.Adv, broken); err != nil {
				return nil, err
			}
			apgdProgress(env, broken, t == targets-1 && r == restarts-1)
		}
	}
	return res, nil
}

// apgdProgress tells env's Progress how many samples are finished: those broken,
// and all once the last run is over.
func apgdProgress(env *StageEnv, broken []bool, last bool) {
	if env.Progress == nil {
		return
	}
	done := len(broken)
	if !last {
		done = 0
		for _, b := range broken {
			if b {
				done++
			}
		}
	}
	env.Progress(done, len(broken))
}

// apgdRestart runs APGD once on the samples not yet broken, from random
// starts drawn per sample from (seed, its index, stream). Samples it
// breaks are marked in broken with their adversarial points in adv; the
// others get the highest-loss point of this run.
func apgdRestart(ctx context.Context, obj objective, cfg apgdConfig, seed, stream uint64, x []float32, idx []int, per int, adv []float32, broken []bool) error {
	rows := active(nil, broken)
	if len(rows) == 0 {
		return nil
	}
	m := len(rows) * per
	xs, start := make([]float32, m), make([]float32, m)
	for p, i := range rows {
		copy(xs[p*per:(p+1)*per], x[i*per:(i+1)*per])
		randomStart(start[p*per:(p+1)*per], xs[p*per:(p+1)*per], cfg.Norm, cfg.Eps, SampleRand(seed, idx[i], stream))
	}
	best, found := make([]float32, m), make([]float32, m)
	hit := make([]bool, len(rows))
	if err := apgdRun(ctx, obj, cfg, xs, start, rows, per, best, found, hit); err != nil {
		return err
	}
	for p, i := range rows {
		src := best
		if hit[p] {
			src, broken[i] = found, true
		}
		copy(adv[i*per:(i+1)*per], src[p*per:(p+1)*per])
	}
	return nil
}

// randomStart sets dst to a point on the surface of the ε-ball around x
// (before clipping to [0,1]): x + ε·t/‖t‖ with t uniform in [−1,1] per
// pixel (L∞) or Gaussian (L2), as the reference starts APGD.
func randomStart(dst, x []float32, norm Norm, eps float64, g interface {
	Float64() float64
	NormFloat64() float64
}) {
	t := make([]float64, len(x))
	var size float64
	for j := range t {
		if norm == L2 {
			t[j] = g.NormFloat64()
			size += t[j] * t[j]
		} else {
			t[j] = 2*g.Float64() - 1
			size = math.Max(size, math.Abs(t[j]))
		}
	}
	if norm == L2 {
		size = math.Sqrt(size)
	}
	for j := range dst {
		dst[j] = float32(float64(x[j]) + eps*t[j]/(size+1e-12))
	}
	if norm == L2 {
		projectL2(dst, x, eps)
		return
	}
	e := float32(eps)
	for j, v := range dst {
		dst[j] = clipLinf(v, x[j], e)
	}
}

// modelObjective is a loss of the model's logits, through the interpreter:
// "ce" (cross-entropy against the label), "dlr" or "dlr-t" (targeted DLR
// toward targets[row]). With eot > 1 the gradient is the mean of eot
// passes, for models whose outputs are random.
type modelObjective struct {
	m       *Model
	loss    string
	labels  []int // per row of the attacked batch
	targets []int // per row, for "dlr-t"
	eot     int

	lab            []int
	logits, acc, d []float32 // d: a row's loss gradient, discarded
}

func (o *modelObjective) eval(grad, x []float32, rows []int, loss []float64, hit []bool) error {
	n := len(rows)
	o.lab = o.lab[:0]
	for _, r := range rows {
		o.lab = append(o.lab, o.labels[r])
	}
	var f SampleLoss
	switch o.loss {
	case "dlr":
		f = func(d, row []float32, y, _ int) float64 { return dlrLoss(d, row, y) }
	case "dlr-t":
		f = func(d, row []float32, y, i int) float64 { return dlrTargetedLoss(d, row, y, o.targets[rows[i]]) }
	}
	if o.eot > 1 {
		o.acc = grow(o.acc, len(grad))
		clear(o.acc)
	}
	k := 0
	for e := 0; e < o.eot; e++ {
		var err error
		if f == nil {
			o.logits, k, err = o.m.Grad(grad, o.logits, x, o.lab, n)
		} else {
			o.logits, k, err = o.m.LossGrad(grad, o.logits, x, o.lab, n, f)
		}
		if err != nil {
			return err
		}
		if o.eot > 1 {
			for j, v := range grad {
				o.acc[j] += v / float32(o.eot)
			}
		}
	}
	if o.eot > 1 {
		copy(grad, o.acc)
	}
	o.d = grow(o.d, k)
	d := o.d
	clear(d)
	for i, r := range rows {
		row := o.logits[i*k : (i+1)*k]
		switch o.loss {
		case "ce":
			loss[i] = crossEntropy(row, o.lab[i])
		case "dlr":
			loss[i] = dlrLoss(d, row, o.lab[i])
		default:
			loss[i] = dlrTargetedLoss(d, row, o.lab[i], o.targets[r])
		}
		clear(d)
		hit[i] = runtime.Argmax(row) != o.lab[i]
	}
	return nil
}
