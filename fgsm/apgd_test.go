package fgsm

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestDLRValues(t *testing.T) {
	row := []float32{1, 5, 3, 2}
	for i, test := range []struct {
		y, t int // t < 0: untargeted
		want float64
	}{
		{y: 0, t: -1, want: -(1 - 5) / (5 - 2.0)},
		{y: 1, t: -1, want: -(5 - 3) / (5 - 2.0)},
		{y: 1, t: 2, want: -(5 - 3) / (5 - 0.5*(2+1))},
		{y: 2, t: 0, want: -(3 - 1) / (5 - 0.5*(2+1))},
	} {
		d := make([]float32, len(row))
		var got float64
		if test.t < 0 {
			got = dlrLoss(d, row, test.y)
		} else {
			got = dlrTargetedLoss(d, row, test.y, test.t)
		}
		if math.Abs(got-test.want) > 1e-9 {
			t.Errorf("case %d: loss %g, want %g", i, got, test.want)
		}
	}
}

// TestDLRGradient checks both DLR losses' gradients against central
// differences on random logits kept away from ties (where the sort, and
// so the loss's formula, changes), and their invariance to a positive
// scale and a shift of the logits.
func TestDLRGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const h = 1e-3
	for trial := 0; trial < 40; trial++ {
		k := 4 + trial%7
		row := make([]float32, k)
		for {
			for i := range row {
				row[i] = float32(4 * rng.NormFloat64())
			}
			s := slices.Clone(row)
			sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
			gap := math.Inf(1)
			for i := 1; i < k; i++ {
				gap = math.Min(gap, float64(s[i]-s[i-1]))
			}
			if gap > 20*h {
				break
			}
		}
		y := rng.IntN(k)
		tg := (y + 1 + rng.IntN(k-1)) % k
		for name, loss := range map[string]func(d, row []float32) float64{
			"dlr":   func(d, r []float32) float64 { return dlrLoss(d, r, y) },
			"dlr-t": func(d, r []float32) float64 { return dlrTargetedLoss(d, r, y, tg) },
		} {
			d := make([]float32, k)
			v := loss(d, row)
			scratch := make([]float32, k)
			for j := range row {
				p, m := slices.Clone(row), slices.Clone(row)
				p[j] += h
				m[j] -= h
				fd := (loss(scratch, p) - loss(scratch, m)) / float64(p[j]-m[j])
				if math.Abs(fd-float64(d[j])) > 1e-3*(1+math.Abs(fd)) {
					t.Errorf("trial %d %s (K=%d, y=%d, t=%d): d/dz%d = %g, finite difference %g", trial, name, k, y, tg, j, d[j], fd)
				}
			}
			affine := make([]float32, k)
			for j, z := range row {
				affine[j] = 3*z - 7
			}
			if w := loss(scratch, affine); math.Abs(w-v) > 1e-5*(1+math.Abs(v)) {
				t.Errorf("trial %d %s: loss %g becomes %g when the logits are scaled by 3 and shifted", trial, name, v, w)
			}
		}
	}
}

func TestCheckpoints(t *testing.T) {
	for _, test := range []struct {
		n    int
		want []int
	}{
		// 22, then 19, 16, 13, 10, 7 and 6 iterations apart.
		{100, []int{21, 40, 56, 69, 79, 86, 92, 98}},
		{10, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{1, []int{0}},
	} {
		if got := checkpoints(test.n); !slices.Equal(got, test.want) {
			t.Errorf("checkpoints(%d) = %v, want %v", test.n, got, test.want)
		}
	}
}

// scripted is an objective whose loss, per sample, is a function of how
// many times it was evaluated; its gradient is all ones.
type scripted struct {
	calls []int
	loss  func(call int) float64
}

func (s *scripted) eval(grad, x []float32, rows []int, loss []float64, hit []bool) error {
	for j := range grad {
		grad[j] = 1
	}
	for i, r := range rows {
		loss[i] = s.loss(s.calls[r])
		s.calls[r]++
	}
	return nil
}

// TestAPGDStepSchedule runs APGD where the loss never rises (every
// checkpoint must halve the step and return to the best point), where it
// always rises (the step must stay 2ε), and where it rises in every other
// step (at most ρ of the steps: halve).
func TestAPGDStepSchedule(t *testing.T) {
	const iters, eps = 100, 0.1
	for _, test := range []struct {
		name  string
		loss  func(call int) float64
		halve bool
	}{
		{"flat", func(int) float64 { return 1 }, true},
		{"rising", func(c int) float64 { return float64(c) }, false},
		{"zigzag", func(c int) float64 { return float64(c/2) - float64(c%2) }, true},
	} {
		obj := &scripted{calls: make([]int, 1), loss: test.loss}
		var its []int
		var steps []float64
		cfg := apgdConfig{Norm: Linf, Eps: eps, Iters: iters, Checkpoint: func(it int, rows []int, step []float64) {
			its = append(its, it)
			steps = append(steps, step[rows[0]])
		}}
		x := []float32{0.5, 0.5}
		best, adv := make([]float32, 2), make([]float32, 2)
		if err := apgdRun(context.Background(), obj, cfg, x, slices.Clone(x), []int{0}, 2, best, adv, make([]bool, 1)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(its, checkpoints(iters)) {
			t.Errorf("%s: checkpoints at %v, want %v", test.name, its, checkpoints(iters))
		}
		for j, s := range steps {
			want := 2 * eps
			if test.halve {
				want /= math.Pow(2, float64(j+1))
			}
			if math.Abs(s-want) > 1e-15 {
				t.Errorf("%s: step after checkpoint %d is %g, want %g", test.name, j, s, want)
			}
		}
		if obj.calls[0] != iters+1 {
			t.Errorf("%s: %d evaluations, want %d", test.name, obj.calls[0], iters+1)
		}
	}
}

// quadratic is −‖x − c‖² per sample, whose maximum over the ε-ball and
// [0,1] is known: c clipped to the box (L∞), or x moved ε toward c (L2,
// with c near the centre of [0,1]).
type quadratic struct {
	c   []float32
	per int
}

func (q *quadratic) eval(grad, x []float32, rows []int, loss []float64, hit []bool) error {
	for i, r := range rows {
		var s float64
		for j := 0; j < q.per; j++ {
			d := float64(x[i*q.per+j] - q.c[r*q.per+j])
			s += d * d
			grad[i*q.per+j] = float32(-2 * d)
		}
		loss[i] = -s
	}
	return nil
}

func TestAPGDFindsOptimum(t *testing.T) {
	const n, per, eps = 4, 16, 0.1
	rng := rand.New(rand.NewPCG(5, 6))
	for _, norm := range []Norm{Linf, L2} {
		x, c, want := make([]float32, n*per), make([]float32, n*per), make([]float32, n*per)
		for i := 0; i < n; i++ {
			var size float64
			u := make([]float64, per)
			for j := range u {
				u[j] = 2 * eps * (2*rng.Float64() - 1)
				size += u[j] * u[j]
			}
			size = math.Sqrt(size)
			for j := range u {
				at := i*per + j
				x[at] = float32(0.3 + 0.4*rng.Float64())
				if norm == L2 {
					u[j] *= 2 * eps / size // ‖c − x‖ = 2ε: the optimum is on the sphere
				}
				c[at] = x[at] + float32(u[j])
				want[at] = x[at] + float32(max(-eps, min(eps, u[j])))
				if norm == L2 {
					want[at] = x[at] + float32(u[j]/2)
				}
			}
		}
		rows := []int{0, 1, 2, 3}
		start := make([]float32, len(x))
		for i := 0; i < n; i++ {
			randomStart(start[i*per:(i+1)*per], x[i*per:(i+1)*per], norm, eps, SampleRand(1, i, 0))
		}
		best, adv := make([]float32, len(x)), make([]float32, len(x))
		cfg := apgdConfig{Norm: norm, Eps: eps, Iters: 100}
		if err := apgdRun(context.Background(), &quadratic{c, per}, cfg, x, start, rows, per, best, adv, make([]bool, n)); err != nil {
			t.Fatal(err)
		}
		for j := range best {
			if d := math.Abs(float64(best[j] - want[j])); d > 0.02*eps {
				t.Errorf("%s: pixel %d at %g, optimum %g", norm, j, best[j], want[j])
			}
		}
		requireInBudget(t, string(norm), best, x, per, norm, eps)
	}
}

// requireInBudget fails t when a sample of adv lies outside the ε-ball around x
// or outside [0,1].
func requireInBudget(t *testing.T, what string, adv, x []float32, per int, norm Norm, eps float64) {
	t.Helper()
	for i := 0; i*per < len(x); i++ {
		a, c := adv[i*per:(i+1)*per], x[i*per:(i+1)*per]
		linf, l2 := norms(a, c)
		size := linf
		if norm == L2 {
			size = l2
		}
		if size > eps*(1+1e-6)+1e-7 {
			t.Errorf("%s: sample %d is %g from the clean image in %s, beyond ε=%g", what, i, size, norm, eps)
		}
		for j, v := range a {
			if v < 0 || v > 1 || math.IsNaN(float64(v)) {
				t.Fatalf("%s: sample %d pixel %d is %g, outside [0,1]", what, i, j, v)
			}
		}
	}
}
