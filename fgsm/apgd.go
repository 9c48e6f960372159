package fgsm

import (
	"context"
	"math"
)

// APGD, Auto-PGD (Croce & Hein, ICML 2020): projected gradient ascent with
// momentum whose step size needs no tuning. It starts at 2ε and is halved
// at checkpoints when the loss stopped rising: when it rose in at most
// ρ = 75% of the steps since the last checkpoint, or when the best loss
// did not improve since then although the step was not halved there. A
// halving restarts from the best point found so far. The first checkpoint
// comes after 22% of the iterations; each interval is 3% of them shorter
// than the one before, down to 6%.

// An objective is the per-sample loss APGD ascends.
type objective interface {
	// eval sets grad (len(x)) to the gradient of each sample's loss at x,
	// len(rows) samples, rows[i] being sample i's place in the attacked
	// batch; it writes sample i's loss into loss[i] and into hit[i]
	// whether x already achieves the attack's goal (misclassification).
	eval(grad, x []float32, rows []int, loss []float64, hit []bool) error
}

// apgdConfig is one APGD run's settings.
type apgdConfig struct {
	Norm  Norm
	Eps   float64
	Iters int
	Rho   float64 // the share of rising steps below which the step halves; 0 means 0.75
	// Checkpoint, when set, is told after every checkpoint its iteration
	// (0-based) and each active sample's step size after the check, by
	// row: a window on the schedule for tests.
	Checkpoint func(iter int, rows []int, step []float64)
}

// checkpoints returns the iterations (0-based, the check following that
// iteration's step) at which APGD of n iterations checks its step size.
func checkpoints(n int) []int {
	k, decr, kmin := max(int(0.22*float64(n)), 1), max(int(0.03*float64(n)), 1), max(int(0.06*float64(n)), 1)
	var out []int
	for it := k - 1; it < n; it += k {
		out = append(out, it)
		k = max(k-decr, kmin)
	}
	return out
}

// apgdRun is one run of APGD on n samples of per values: clean pixels x,
// starting points start (inside the ball), rows[i] being sample i's place
// in the attacked batch. It writes into best each sample's highest-loss
// point and, where the goal was reached, the first point that reached it
// into adv, setting hit[i].
func apgdRun(ctx context.Context, obj objective, c apgdConfig, x, start []float32, rows []int, per int, best, adv []float32, hit []bool) error {
	if c.Rho == 0 {
		c.Rho = 0.75
	}
	s := newAPGDState(c, start, per, len(rows), best, adv, hit)
	ev := evaluator{obj: obj, per: per}
	all := make([]int, len(rows))
	for i := range all {
		all[i] = i
	}
	if err := ev.eval(s.grad, s.xa, all, rows, s.loss, hit); err != nil {
		return err
	}
	copy(best, s.xa)
	copy(s.gradBest, s.grad)
	copy(s.lossBest, s.loss)
	copy(s.lastCheck, s.loss)
	copy(s.prev, s.loss)
	for i := range hit {
		if hit[i] {
			copy(adv[i*per:(i+1)*per], s.xa[i*per:(i+1)*per])
		}
	}
	act := active(nil, hit)
	checks, next, last := checkpoints(c.Iters), 0, -1 // last: the previous checkpoint's iteration
	for it := 0; it < c.Iters && len(act) > 0; it++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		a := 0.75
		if it == 0 {
			a = 1
		}
		for _, i := range act {
			o := i * per
			apgdStep(c.Norm, s.xa[o:o+per], s.old[o:o+per], x[o:o+per], s.grad[o:o+per], s.z, s.step[i], c.Eps, a)
		}
		if err := ev.eval(s.grad, s.xa, act, rows, s.loss, hit); err != nil {
			return err
		}
		s.record(act)
		if next < len(checks) && it == checks[next] {
			s.checkpoint(act, it-last, c.Rho)
			if c.Checkpoint != nil {
				c.Checkpoint(it, act, s.step)
			}
			next, last = next+1, it
		}
		act = active(act[:0], hit)
	}
	return nil
}

// apgdState is one APGD run's per-sample state.
type apgdState struct {
	per                             int
	xa, old, grad, gradBest         []float32 // current and previous point, gradient, gradient at the best point
	z                               []float32 // one sample's scratch for the L2 step
	best, adv                       []float32 // the caller's
	hit                             []bool
	loss, lossBest, lastCheck, prev []float64 // lastCheck: the best loss at the last checkpoint
	step                            []float64
	ups                             []int  // rising steps since the last checkpoint
	halved                          []bool // whether the last checkpoint halved the step
}

func newAPGDState(c apgdConfig, start []float32, per, n int, best, adv []float32, hit []bool) *apgdState {
	s := &apgdState{per: per, xa: append([]float32(nil), start...), old: append([]float32(nil), start...),
		grad: make([]float32, len(start)), gradBest: make([]float32, len(start)), z: make([]float32, per), best: best, adv: adv, hit: hit,
		loss: make([]float64, n), lossBest: make([]float64, n), lastCheck: make([]float64, n), prev: make([]float64, n),
		step: make([]float64, n), ups: make([]int, n), halved: make([]bool, n)}
	for i := range s.step {
		s.step[i] = 2 * c.Eps
		s.halved[i] = true // no "best did not improve" halving at the first checkpoint
	}
	return s
}

// record takes in the losses of the samples act after a step: a point
// that reached the goal, a new best, a rising step.
func (s *apgdState) record(act []int) {
	per := s.per
	for _, i := range act {
		o := i * per
		if s.hit[i] {
			copy(s.adv[o:o+per], s.xa[o:o+per])
		}
		if s.loss[i] > s.lossBest[i] {
			s.lossBest[i] = s.loss[i]
			copy(s.best[o:o+per], s.xa[o:o+per])
			copy(s.gradBest[o:o+per], s.grad[o:o+per])
		}
		if s.loss[i] > s.prev[i] {
			s.ups[i]++
		}
		s.prev[i] = s.loss[i]
	}
}

// checkpoint halves the step of each sample of act whose loss rose in at
// most rho of the k steps since the last checkpoint, or whose best loss
// did not improve since a checkpoint that left its step alone, and
// returns it to its best point.
func (s *apgdState) checkpoint(act []int, k int, rho float64) {
	per := s.per
	for _, i := range act {
		oscillating := float64(s.ups[i]) <= rho*float64(k)
		stalled := !s.halved[i] && s.lastCheck[i] >= s.lossBest[i]
		s.halved[i] = oscillating || stalled
		s.lastCheck[i], s.ups[i] = s.lossBest[i], 0
		if s.halved[i] {
			s.step[i] /= 2
			o := i * per
			copy(s.xa[o:o+per], s.best[o:o+per])
			copy(s.grad[o:o+per], s.gradBest[o:o+per])
		}
	}
}

// active lists the samples not yet hit.
func active(dst []int, hit []bool) []int {
	for i, h := range hit {
		if !h {
			dst = append(dst, i)
		}
	}
	return dst
}

// evaluator runs an objective on a subset of the samples, packing their
// pixels together and scattering the gradients back, so that samples
// already broken cost no more gradient passes.
type evaluator struct {
	obj    objective
	per    int
	xb, gb []float32
	rows   []int
	loss   []float64
	hit    []bool
}

func (e *evaluator) eval(grad, x []float32, sel, rows []int, loss []float64, hit []bool) error {
	per, n := e.per, len(sel)
	e.xb, e.gb = grow(e.xb, n*per), grow(e.gb, n*per)
	e.rows = e.rows[:0]
	for p, i := range sel {
		copy(e.xb[p*per:(p+1)*per], x[i*per:(i+1)*per])
		e.rows = append(e.rows, rows[i])
	}
	e.loss = append(e.loss[:0], make([]float64, n)...)
	e.hit = append(e.hit[:0], make([]bool, n)...)
	if err := e.obj.eval(e.gb, e.xb, e.rows, e.loss, e.hit); err != nil {
		return err
	}
	for p, i := range sel {
		g := grad[i*per : (i+1)*per]
		copy(g, e.gb[p*per:(p+1)*per])
		for j, v := range g {
			if !finite(float64(v)) {
				g[j] = 0 // a broken gradient moves nothing rather than poisoning the point
			}
		}
		loss[i], hit[i] = e.loss[p], e.hit[p]
	}
	return nil
}

// apgdStep moves one sample xa (clean x, previous point old) by APGD's
// momentum step: z = P(xa + η·d(g)), then
// xa' = P(xa + a·(z − xa) + (1 − a)·(xa − old)), where d is the sign of
// the gradient (L∞) or its direction (L2) and P projects onto the ε-ball
// around x and onto [0,1]. old becomes the point before the step. z is
// scratch of len(xa) values for the L2 step.
func apgdStep(norm Norm, xa, old, x, g, z []float32, eta, eps, a float64) {
	n := len(xa)
	old, x, g = old[:n], x[:n], g[:n]
	if norm == L2 {
		gn := vecNorm(L2, g)
		z = z[:n]
		for j := range z {
			z[j] = xa[j] + float32(eta*float64(g[j])/(gn+1e-12))
		}
		projectL2(z, x, eps)
		for j := range z {
			v := float64(xa[j]) + a*float64(z[j]-xa[j]) + (1-a)*float64(xa[j]-old[j])
			old[j], z[j] = xa[j], float32(v)
		}
		projectL2(z, x, eps)
		copy(xa, z)
		return
	}
	e := float32(eps)
	for j, v := range xa {
		z := clipLinf(v+float32(eta)*sign(g[j]), x[j], e)
		w := float32(float64(v) + a*float64(z-v) + (1-a)*float64(v-old[j]))
		old[j], xa[j] = v, clipLinf(w, x[j], e)
	}
}

// projectL2 moves z onto the L2 ball of radius eps around x, then into
// [0,1]; clipping only brings z closer to x, so it stays in the ball. The
// float32 rounding of a point scaled onto the sphere can land just
// outside it, so the scale shrinks until the stored point is inside.
func projectL2(z, x []float32, eps float64) {
	for shrink := 1.0; ; shrink *= 1 - 1e-6 {
		s := dist2(z, x)
		if s <= eps {
			break
		}
		scale := eps / s * shrink
		for j, v := range z {
			z[j] = x[j] + float32(scale*float64(v-x[j]))
		}
	}
	for j, v := range z {
		z[j] = clamp01(v)
	}
}

// dist2 is the L2 distance between a and b.
func dist2(a, b []float32) float64 {
	var s float64
	for j, v := range a {
		d := float64(v) - float64(b[j])
		s += d * d
	}
	return math.Sqrt(s)
}
