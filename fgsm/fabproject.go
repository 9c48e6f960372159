package fgsm

import (
	"cmp"
	"math"
	"slices"
)

// boxProjector finds FAB's steps: the smallest perturbation d, in L∞ or
// L2, that puts a point t of [0,1]ⁿ on a hyperplane, w·(t+d) = w·t + c,
// while t+d stays in [0,1]ⁿ (Croce & Hein 2020, section 3.1: the
// projection onto the intersection of a hyperplane and the box). It keeps
// its scratch between calls and is not safe for concurrent use.
//
// Both problems reduce to one monotone scalar equation. Turn the problem so
// that c > 0 (flip the sign of w and c). Each coordinate then moves only
// in the direction that raises w·d, and at most cap_i before it leaves the
// box (1−t_i where w_i > 0, t_i where w_i < 0):
//
//   - L∞: with ‖d‖∞ ≤ λ, the most w·d can gain is g(λ) = Σ|w_i|·min(λ, cap_i),
//     so the smallest λ is where g(λ) = c, and d_i = sign(w_i)·min(λ, cap_i);
//   - L2: the KKT conditions give d_i = clip(λ·w_i) to the box, so
//     h(λ) = Σ|w_i|·min(λ|w_i|, cap_i) = c, and coordinate i saturates at
//     λ = cap_i/|w_i|.
//
// g and h are piecewise linear and nondecreasing with one breakpoint per
// coordinate; sorting the breakpoints and walking the pieces solves each in
// O(n log n). The reference implementation bisects over the same sorted
// breakpoints, a form suited to GPUs; the answer is the same. When even
// the box's far corner does not reach the hyperplane (g(∞) < c), d is
// that corner, the closest the box gets, as in the reference.
type boxProjector struct {
	order      []int     // the coordinates that can move, by breakpoint
	brk, slope []float64 // per coordinate: its breakpoint, and |w_i| (L∞) or w_i² (L2)
	suffix     []float64 // suffix[k]: the sum of slope over order[k:]
}

// project dispatches to the projection of norm; it reports whether the
// hyperplane meets the box.
func (p *boxProjector) project(norm Norm, d []float64, t, w []float32, c float64) bool {
	if norm == L2 {
		return p.l2(d, t, w, c)
	}
	return p.linf(d, t, w, c)
}

// linf sets d to the perturbation of least L∞ norm with w·d = c and
// t+d in [0,1]ⁿ, and reports whether one exists (otherwise d is the box's
// corner that comes closest).
func (p *boxProjector) linf(d []float64, t, w []float32, c float64) bool {
	s := p.setup(d, t, w, c, false)
	lambda, ok := p.solve(math.Abs(c))
	for _, i := range p.order {
		d[i] = s * sign(float64(w[i])) * min(lambda, p.brk[i])
	}
	return ok
}

// l2 is linf for the L2 norm.
func (p *boxProjector) l2(d []float64, t, w []float32, c float64) bool {
	s := p.setup(d, t, w, c, true)
	lambda, ok := p.solve(math.Abs(c))
	for _, i := range p.order {
		wi := float64(w[i])
		d[i] = s * wi * min(lambda, p.brk[i])
	}
	return ok
}

// setup zeroes d, finds the coordinates that can move towards the
// hyperplane with their breakpoints and slopes, sorts them by breakpoint,
// and returns the sign s that turns the problem to c > 0.
func (p *boxProjector) setup(d []float64, t, w []float32, c float64, l2 bool) float64 {
	n := len(w)
	clear(d[:n])
	s := 1.0
	if c < 0 {
		s = -1
	}
	if cap(p.brk) < n {
		p.brk, p.slope, p.suffix = make([]float64, n), make([]float64, n), make([]float64, n)
	}
	p.brk, p.slope = p.brk[:n], p.slope[:n]
	p.order = p.order[:0]
	if c == 0 {
		return s
	}
	for i, v := range w {
		wi := s * float64(v)
		var room float64 // how far coordinate i can move in the direction that raises w·d
		switch {
		case wi > 0:
			room = 1 - float64(t[i])
		case wi < 0:
			room = float64(t[i])
		default:
			continue
		}
		if room <= 0 {
			continue
		}
		aw := math.Abs(wi)
		if l2 {
			p.brk[i], p.slope[i] = room/aw, aw*aw
		} else {
			p.brk[i], p.slope[i] = room, aw
		}
		p.order = append(p.order, i)
	}
	slices.SortFunc(p.order, func(a, b int) int { return cmp.Compare(p.brk[a], p.brk[b]) })
	p.suffix = p.suffix[:len(p.order)]
	acc := 0.0
	for k := len(p.order) - 1; k >= 0; k-- {
		acc += p.slope[p.order[k]]
		p.suffix[k] = acc
	}
	return s
}

// solve walks the sorted pieces of the sum F(λ) (g for L∞, h for L2) and
// returns the λ where F(λ) = c > 0, or +Inf and false when F never
// reaches c. Coordinate i contributes slope_i·λ below its breakpoint and
// slope_i·brk_i above it (|w_i|·cap_i for both norms).
func (p *boxProjector) solve(c float64) (float64, bool) {
	if c == 0 {
		return 0, true
	}
	reached := 0.0 // the contribution of the saturated coordinates order[:k]
	for k, i := range p.order {
		if lambda := (c - reached) / p.suffix[k]; lambda <= p.brk[i] {
			return lambda, true
		}
		reached += p.slope[i] * p.brk[i]
	}
	return math.Inf(1), false
}
