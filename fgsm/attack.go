package fgsm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onnxguard/onnxguard/fgsm/internal/pixelstep"
	"github.com/onnxguard/onnxguard/runtime"
)

// Attacker crafts adversarial examples for batches of pixels. It keeps its
// buffers between batches and is not safe for concurrent use.
type Attacker struct {
	M    *Model
	Seed uint64
	// Check, when set, classifies the adversarial examples: the runtime
	// that the model is deployed on. Its scores choose each sample's
	// strongest restart and are the Outcome's Logits, so the interpreter
	// runs no forward pass besides its gradient passes. Nil means the
	// interpreter classifies (Model.Score).
	Check Scorer
	k     int // classes the model scores

	grad, x, mom []float32
	logits, tmp  []float32
	clean        []float32
	best         []float64 // per sample, the score of the strongest restart so far
	out          Outcome
}

// NewAttacker returns an Attacker for m; seed drives the random starts and
// random targets.
func NewAttacker(m *Model, seed uint64) (*Attacker, error) {
	a := &Attacker{M: m, Seed: seed}
	// An engine that would have to compile its interpreter for the probe
	// (gradengine's, with the interpreter compiled on demand) knows the
	// count already.
	k := 0
	if c, ok := m.G.(interface{ Classes() int }); ok {
		k = c.Classes()
	}
	if k < 2 {
		zero := make([]float32, m.Per())
		var err error
		if _, k, err = m.Logits(nil, zero, 1); err != nil {
			return nil, fmt.Errorf("probing the model's classes: %w", err)
		}
	}
	if k < 2 {
		return nil, fmt.Errorf("the model scores %d class; attacks need a classifier with at least 2", k)
	}
	a.k = k
	return a, nil
}

// Classes returns the number of classes the model scores.
func (a *Attacker) Classes() int { return a.k }

// Outcome is what an attack did to a batch.
type Outcome struct {
	Adv []float32 // adversarial pixels, the batch's layout
	// Logits are the scores of Adv, N×K, from the Attacker's Check, or
	// from the interpreter when it has none.
	Logits []float32
	// Clean holds the model's logits (of the tensor the loss reads:
	// before a final Softmax) for the clean pixels, N×K, taken from the
	// first gradient pass when that pass is at the clean pixels; nil when
	// no pass was (a random start). CleanEngine names the engine that
	// computed them (Model.GradEngine).
	Clean       []float32
	CleanEngine string
	K           int
	// Targets holds each sample's target class for a targeted attack, -1
	// where the sample was left alone because its label is the target.
	// It is nil for an untargeted attack.
	Targets []int
}

// Skipped reports whether sample i was left alone.
func (o *Outcome) Skipped(i int) bool { return o.Targets != nil && o.Targets[i] < 0 }

// rng returns the generator for one sample of one restart.
func (a *Attacker) rng(index, restart int) *rand.Rand {
	return rand.New(rand.NewPCG(a.Seed+uint64(restart)*0x9E3779B97F4A7C15, uint64(index)))
}

// targets resolves the target of every sample; start is the index of the
// first sample in the data.
func (a *Attacker) targets(t Target, labels []int, start int) ([]int, error) {
	if t.Mode == "" {
		return nil, nil
	}
	out := make([]int, len(labels))
	for i, y := range labels {
		switch t.Mode {
		case "class":
			if t.Class >= a.k {
				return nil, fmt.Errorf("target class %d: the model scores classes 0 to %d", t.Class, a.k-1)
			}
			out[i] = t.Class
			if y == t.Class {
				out[i] = -1 // refused: a target equal to the label is no attack
			}
		case "next":
			out[i] = (y + 1) % a.k
		case "random":
			c := a.rng(start+i, -1).IntN(a.k - 1)
			if c >= y {
				c++
			}
			out[i] = c
		default:
			return nil, fmt.Errorf("unknown target mode %q", t.Mode)
		}
	}
	return out, nil
}

// Attack runs cfg (already normalized) on n samples of pixels x in [0,1]
// with their labels; start is the index of the first sample in the data,
// which seeds its randomness. The returned Outcome's slices are reused by
// the next call.
func (a *Attacker) Attack(cfg Config, x []float32, labels []int, n, start int) (*Outcome, error) {
	return a.attack(cfg, x, labels, n, start, true)
}

// Craft is Attack for a caller that wants only the adversarial pixels, as
// a training step does: with one restart it skips the forward pass that
// scores them (a third of an FGSM step), and the Outcome's Logits are empty.
// With more, the scores choose each sample's strongest restart and are
// computed as Attack computes them.
func (a *Attacker) Craft(cfg Config, x []float32, labels []int, n, start int) (*Outcome, error) {
	return a.attack(cfg, x, labels, n, start, false)
}

func (a *Attacker) attack(cfg Config, x []float32, labels []int, n, start int, score bool) (*Outcome, error) {
	per := a.M.Per()
	if len(x) != n*per || len(labels) != n {
		return nil, fmt.Errorf("attack: %d pixels and %d labels for %d samples of %d values", len(x), len(labels), n, per)
	}
	for i, y := range labels {
		if y < 0 || y >= a.k {
			return nil, fmt.Errorf("sample %d has label %d but the model scores %d classes", start+i, y, a.k)
		}
	}
	tg, err := a.targets(cfg.Target, labels, start)
	if err != nil {
		return nil, err
	}
	a.grad = grow(a.grad, len(x))
	a.x = grow(a.x, len(x))
	out := &a.out
	out.K, out.Targets, out.Clean, out.CleanEngine = a.k, tg, nil, ""
	for r := 0; r < max(cfg.Restarts, 1); r++ {
		xa, err := a.run(cfg, x, labels, tg, start, r)
		if err != nil {
			return nil, err
		}
		if !score && cfg.Restarts <= 1 {
			out.Adv, out.Logits = append(out.Adv[:0], xa...), out.Logits[:0]
			break
		}
		if err := a.classify(xa, n); err != nil {
			return nil, err
		}
		a.keepBest(out, xa, labels, tg, r == 0)
	}
	return out, nil
}

// classify sets a.logits to the scores of the n examples xa: the
// deployed runtime's (a.Check) when there is one, else the interpreter's.
func (a *Attacker) classify(xa []float32, n int) error {
	var err error
	if a.Check == nil {
		a.logits, _, err = a.M.Logits(a.logits, xa, n)
		return err
	}
	if a.logits, err = a.Check(a.logits, xa, n); err != nil {
		return err
	}
	if len(a.logits) != n*a.k {
		return fmt.Errorf("the runtime gave %d scores for %d samples; the interpreter scores %d classes", len(a.logits), n, a.k)
	}
	return nil
}

// run is one restart r of the attack on samples x: the random start, then
// the steps. It returns the examples, in a.x.
func (a *Attacker) run(cfg Config, x []float32, labels, tg []int, start, r int) ([]float32, error) {
	n, per := len(labels), a.M.Per()
	// The loss is the true label's, ascended, or the target's, descended.
	lossLabels, sgn := labels, float32(1)
	if tg != nil {
		lossLabels, sgn = make([]int, n), -1
		for i, t := range tg {
			lossLabels[i] = t
			if t < 0 {
				lossLabels[i] = labels[i]
			}
		}
	}
	eps, alpha := float32(cfg.Eps), float32(cfg.Alpha)
	xa := a.x
	copy(xa, x)
	if cfg.RandomStart {
		for i := 0; i < n; i++ {
			g := a.rng(start+i, r)
			for j := i * per; j < (i+1)*per; j++ {
				xa[j] = clamp01(x[j] + eps*float32(2*g.Float64()-1))
			}
		}
	}
	if cfg.Method == MIFGSM {
		a.mom = grow(a.mom, len(x))
		clear(a.mom)
	}
	for s := 0; s < cfg.Steps; s++ {
		var err error
		if a.tmp, _, err = a.M.Grad(a.grad, a.tmp, xa, lossLabels, n); err != nil {
			return nil, err
		}
		if s == 0 && r == 0 && !cfg.RandomStart {
			a.clean = append(a.clean[:0], a.tmp...)
			a.out.Clean, a.out.CleanEngine = a.clean, a.M.GradEngine(false)
		}
		dir := a.grad
		if cfg.Method == MIFGSM {
			momentum(a.mom, a.grad, float32(cfg.Momentum), per)
			dir = a.mom
		}
		for i := 0; i < n; i++ {
			if tg != nil && tg[i] < 0 {
				continue
			}
			at := i * per
			Step(xa[at:at+per], x[at:at+per], dir[at:at+per], sgn, alpha, eps)
		}
	}
	return xa, nil
}

// keepBest puts into out each sample's example from xa, with its logits
// (a.logits), where it scores better than the restarts before; first says
// there were none.
func (a *Attacker) keepBest(out *Outcome, xa []float32, labels, tg []int, first bool) {
	n, per := len(labels), a.M.Per()
	if first {
		out.Adv = append(out.Adv[:0], xa...)
		out.Logits = append(out.Logits[:0], a.logits...)
		a.best = a.best[:0]
		for i := 0; i < n; i++ {
			a.best = append(a.best, a.score(a.logits[i*a.k:(i+1)*a.k], labels[i], tg, i))
		}
		return
	}
	for i := 0; i < n; i++ {
		row := a.logits[i*a.k : (i+1)*a.k]
		if s := a.score(row, labels[i], tg, i); s > a.best[i] {
			a.best[i] = s
			copy(out.Adv[i*per:(i+1)*per], xa[i*per:(i+1)*per])
			copy(out.Logits[i*a.k:(i+1)*a.k], row)
		}
	}
}

// score ranks a restart's result for one sample, higher being a stronger
// attack: success first (misclassified, or classified as the target), then
// the loss (the label's, raised; the target's, lowered).
func (a *Attacker) score(row []float32, label int, tg []int, i int) float64 {
	pred := runtime.Argmax(row)
	if tg == nil {
		s := crossEntropy(row, label)
		if pred != label {
			s += 1e6
		}
		return s
	}
	if tg[i] < 0 {
		return 0
	}
	s := -crossEntropy(row, tg[i])
	if pred == tg[i] {
		s += 1e6
	}
	return s
}

// momentum updates MI-FGSM's accumulated direction for each sample:
// mom = μ·mom + g/‖g‖₁.
func momentum(mom, g []float32, mu float32, per int) {
	for i := 0; i+per <= len(g); i += per {
		var l1 float64
		for _, v := range g[i : i+per] {
			l1 += math.Abs(float64(v))
		}
		inv := float32(0)
		if l1 > 0 {
			inv = float32(1 / l1)
		}
		for j := i; j < i+per; j++ {
			mom[j] = mu*mom[j] + g[j]*inv
		}
	}
}

// Step moves adv one signed-gradient step of alpha along grad, up the
// loss for sgn 1 and down it for -1, and projects it onto the ε-ball
// around x and onto [0,1]: one step of FGSM, BIM or PGD, in pixel space.
//
// The step is sgn·alpha·sign(grad), written as sgn·alpha with grad's sign
// bit, where a zero or NaN gradient gives sgn·alpha·0. It runs as AVX-512F
// assembly where the CPU has it (package pixelstep), to the bit as its Go
// loop: 16 ImageNet images (BenchmarkStep, on the 2-core AMD EPYC VM) take
// 20 ms with sign's branches, 8.5 ms with sign bits, 1.2-1.4 ms in
// assembly.
func Step(adv, x, grad []float32, sgn, alpha, eps float32) {
	pixelstep.Step(adv, x, grad, sgn, alpha, eps)
}

func sign[T float32 | float64](v T) T {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

// clipLinf projects pixel v onto the ε-ball around clean pixel x, then
// onto [0,1]: the projection of Step, whose Go loop is its reference.
func clipLinf(v, x, eps float32) float32 { return pixelstep.ClipLinf(v, x, eps) }

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
