package fgsm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBoxProjectionKnown checks the projections on problems solved by hand:
// boxes that do not bind (d = c·w/‖w‖² in L2, c·sign(w)/‖w‖₁ in L∞), boxes
// that bind, a negative c, and a hyperplane out of the box's reach.
func TestBoxProjectionKnown(t *testing.T) {
	for i, test := range []struct {
		t, w     []float32
		c        float64
		linf, l2 []float64
		ok       bool
	}{
		// Free: L2 moves along w, L∞ moves every coordinate equally.
		{t: []float32{0.5, 0.5}, w: []float32{3, 4}, c: 0.5, linf: []float64{1.0 / 14, 1.0 / 14}, l2: []float64{0.06, 0.08}, ok: true},
		{t: []float32{0.5, 0.5, 0.5}, w: []float32{1, -1, 0}, c: -0.2, linf: []float64{-0.1, 0.1, 0}, l2: []float64{-0.1, 0.1, 0}, ok: true},
		// The first coordinate can rise by 0.1 only: the second makes up the rest.
		{t: []float32{0.9, 0.5}, w: []float32{1, 1}, c: 0.4, linf: []float64{0.1, 0.3}, l2: []float64{0.1, 0.3}, ok: true},
		{t: []float32{0.9, 0.5}, w: []float32{2, 1}, c: 0.4, linf: []float64{0.1, 0.2}, l2: []float64{0.1, 0.2}, ok: true},
		// L2 would move the first twice as far as the second; the box caps it.
		{t: []float32{0.8, 0.5}, w: []float32{2, 1}, c: 0.5, linf: []float64{0.5 / 3, 0.5 / 3}, l2: []float64{0.2, 0.1}, ok: true},
		// A coordinate at its bound cannot move; w < 0 moves towards 0.
		{t: []float32{1, 0.3}, w: []float32{1, -1}, c: 0.2, linf: []float64{0, -0.2}, l2: []float64{0, -0.2}, ok: true},
		// Out of reach: the corner that comes closest.
		{t: []float32{0.9, 0.9}, w: []float32{1, 1}, c: 0.5, linf: []float64{0.1, 0.1}, l2: []float64{0.1, 0.1}, ok: false},
		// On the hyperplane already.
		{t: []float32{0.2, 0.7}, w: []float32{1, 2}, c: 0, linf: []float64{0, 0}, l2: []float64{0, 0}, ok: true},
	} {
		var p boxProjector
		for _, norm := range []Norm{Linf, L2} {
			want := test.linf
			if norm == L2 {
				want = test.l2
			}
			d := make([]float64, len(test.w))
			ok := p.project(norm, d, test.t, test.w, test.c)
			if ok != test.ok {
				t.Errorf("case %d %s: reachable %t, want %t", i, norm, ok, test.ok)
			}
			for j := range d {
				if math.Abs(d[j]-want[j]) > 1e-7 {
					t.Errorf("case %d %s: d = %v, want %v", i, norm, d, want)
					break
				}
			}
		}
	}
}

// TestBoxProjectionBruteForce checks both projections on small random
// problems (seeded) against an enumeration of every active set, the
// brute-force solution of these convex problems, and checks that no random
// feasible point is closer.
func TestBoxProjectionBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	var p boxProjector
	for trial := range 300 {
		n := 1 + rng.IntN(6)
		pt, w := make([]float32, n), make([]float32, n)
		for j := range n {
			pt[j] = float32(rng.Float64())
			if rng.IntN(8) == 0 {
				pt[j] = float32(rng.IntN(2)) // on a face of the box
			}
			if rng.IntN(6) > 0 {
				w[j] = float32(rng.NormFloat64())
			}
		}
		c := rng.NormFloat64() * 0.5
		for _, norm := range []Norm{Linf, L2} {
			d := make([]float64, n)
			ok := p.project(norm, d, pt, w, c)
			want, feasible := bruteProjection(norm, pt, w, c)
			if ok != feasible {
				t.Fatalf("trial %d %s: t %v w %v c %g: reachable %t, brute force says %t", trial, norm, pt, w, c, ok, feasible)
			}
			for j := range d {
				if v := float64(pt[j]) + d[j]; v < -1e-12 || v > 1+1e-12 {
					t.Fatalf("trial %d %s: t+d leaves the box at %d: %g", trial, norm, j, v)
				}
			}
			if !ok {
				continue
			}
			if got := dot64(w, d); math.Abs(got-c) > 1e-9 {
				t.Fatalf("trial %d %s: w·d = %g, want %g", trial, norm, got, c)
			}
			if got := vecNorm(norm, d); math.Abs(got-want) > 1e-9*(1+want) {
				t.Fatalf("trial %d %s: t %v w %v c %g: ‖d‖ = %g, brute force %g", trial, norm, pt, w, c, got, want)
			}
			if q, found := randomFeasible(rng, pt, w, c); found && vecNorm(norm, q) < vecNorm(norm, d)-1e-9 {
				t.Fatalf("trial %d %s: the feasible %v is closer than %v", trial, norm, q, d)
			}
		}
	}
}

// bruteProjection returns the least norm of d with w·d = c and t+d in the
// box, and whether one exists, by trying every active set: in L2 each
// coordinate at its lower bound, its upper bound or free (the free ones
// then move along w, d_F = μ·w_F); in L∞ each coordinate at a bound or at
// ±λ, the common magnitude. Each candidate that is feasible is a feasible
// point, and the optimum is among them.
func bruteProjection(norm Norm, t, w []float32, c float64) (float64, bool) {
	n := len(w)
	best := math.Inf(1)
	d := make([]float64, n)
	states := 1
	for range n {
		states *= 3
	}
	for code := range states {
		st, rest := make([]int, n), code
		for j := range n {
			st[j], rest = rest%3, rest/3 // 0 lower bound, 1 upper bound, 2 free
		}
		fixed, free := 0.0, 0.0
		for j := range n {
			lo, hi := -float64(t[j]), 1-float64(t[j])
			switch st[j] {
			case 0:
				d[j] = lo
			case 1:
				d[j] = hi
			default:
				d[j] = 0
				if norm == L2 {
					free += float64(w[j]) * float64(w[j])
				} else {
					free += math.Abs(float64(w[j]))
				}
				continue
			}
			fixed += float64(w[j]) * d[j]
		}
		var mu float64
		switch {
		case free > 0:
			mu = (c - fixed) / free
		case math.Abs(c-fixed) > 1e-12:
			continue
		}
		feasible := true
		for j := range n {
			if st[j] != 2 {
				continue
			}
			if norm == L2 {
				d[j] = mu * float64(w[j])
			} else {
				d[j] = mu * sign(float64(w[j]))
			}
			if v := float64(t[j]) + d[j]; v < -1e-12 || v > 1+1e-12 {
				feasible = false
			}
		}
		if feasible && math.Abs(dot64(w, d)-c) < 1e-9 {
			best = min(best, vecNorm(norm, d))
		}
	}
	return best, !math.IsInf(best, 1)
}

// randomFeasible draws a random point of the box and moves one coordinate
// so that w·d = c; it reports false when that coordinate would leave the box.
func randomFeasible(rng *rand.Rand, t, w []float32, c float64) ([]float64, bool) {
	n := len(w)
	d := make([]float64, n)
	for j := range n {
		d[j] = rng.Float64() - float64(t[j])
	}
	j := rng.IntN(n)
	if w[j] == 0 {
		return nil, false
	}
	d[j] = 0
	d[j] = (c - dot64(w, d)) / float64(w[j])
	v := float64(t[j]) + d[j]
	return d, v >= 0 && v <= 1
}

func dot64(w []float32, d []float64) float64 {
	var s float64
	for j, v := range w {
		s += float64(v) * d[j]
	}
	return s
}
