package adam

import (
	"math"
	"math/rand/v2"
	"testing"
)

// impls are the implementations this CPU runs: the Go loop always, the
// assembly where it is Available.
func impls() map[string]impl {
	m := map[string]impl{"go": goImpl{}}
	if Available {
		m["native"] = native
	}
	return m
}

// TestUpdate checks every implementation against the Go loop bit for bit,
// over lengths around the assembly's eight, steps early and late, weight
// decay on and off, gradients from zero to large, alone and averaged with
// a second half, and a weight made infinite or NaN before the step, in
// the assembly's body or its tail, which the report must name.
func TestUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, im := range impls() {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 64, 1001} {
			for _, step := range []int{1, 2, 1000} {
				for _, wd := range []float64{0, 0.05} {
					for _, mean := range []bool{false, true} {
						for _, poison := range []int{-1, 0, n - 1} {
							c := NewCoef(0.9, 0.999, 1e-8, 1e-3, wd, step)
							w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
							var h []float32
							if mean {
								h = make([]float32, n)
							}
							for j := range n {
								w[j] = float32(rng.NormFloat64())
								g[j] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-6)))
								if j%5 == 0 {
									g[j] = 0
								}
								if h != nil {
									h[j] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-6)))
								}
								m[j] = float32(rng.NormFloat64() * 0.01)
								v[j] = float32(rng.Float64() * 1e-4)
							}
							if poison >= 0 && n > 0 {
								w[poison] = []float32{float32(math.Inf(-1)), float32(math.NaN())}[step%2]
							}
							want := [5][]float32{clone(w), clone(g), clone(h), clone(m), clone(v)}
							wantBad := update(want[0], want[1], want[2], want[3], want[4], &c)
							if wantBad != (poison >= 0 && n > 0) {
								t.Fatalf("go: n %d: poisoned at %d, reported %v", n, poison, wantBad)
							}
							done, bad := im.update(w, g, h, m, v, &c)
							var tail []float32
							if h != nil {
								tail = h[done:]
							}
							bad = update(w[done:], g[done:], tail, m[done:], v[done:], &c) || bad
							if name == "native" && done != n&^7 {
								t.Errorf("native: n %d: took %d elements, want %d", n, done, n&^7)
							}
							if bad != wantBad {
								t.Errorf("%s: n %d mean %v: poisoned at %d, reported %v", name, n, mean, poison, bad)
							}
							for k, got := range [5][]float32{w, g, h, m, v} {
								for j := range got {
									if math.Float32bits(got[j]) != math.Float32bits(want[k][j]) {
										t.Fatalf("%s: n %d step %d wd %g mean %v: %s[%d] = %g, want %g", name, n, step, wd, mean, "wghmv"[k:k+1], j, got[j], want[k][j])
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestUpdateOverflow checks the report of weights the step itself makes
// infinite, finite before it: a learning rate of 1e39 overflows float32.
func TestUpdateOverflow(t *testing.T) {
	for name, im := range impls() {
		for _, n := range []int{3, 8, 21} {
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for j := range w {
				w[j], g[j] = 1, 0.5
			}
			c := NewCoef(0.9, 0.999, 1e-8, 1e39, 0, 1)
			done, bad := im.update(w, g, nil, m, v, &c)
			bad = update(w[done:], g[done:], nil, m[done:], v[done:], &c) || bad
			if !bad || !math.IsInf(float64(w[0]), -1) {
				t.Errorf("%s: n %d: the step left w[0] = %g and reported %v, want -Inf reported", name, n, w[0], bad)
			}
		}
	}
}

// TestUpdateMean checks that the averaged step is the step on the mean
// gradient, and that it leaves both halves as they were.
func TestUpdateMean(t *testing.T) {
	const n = 37
	rng := rand.New(rand.NewPCG(3, 4))
	w, g, h, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for j := range n {
		w[j], g[j], h[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	mid := make([]float32, n)
	for j := range mid {
		mid[j] = (g[j] + h[j]) / 2
	}
	w2, m2, v2 := clone(w), clone(m), clone(v)
	g0, h0 := clone(g), clone(h)
	c := NewCoef(0.9, 0.999, 1e-8, 1e-3, 0.01, 3)
	Update(w, g, h, m, v, &c)
	Update(w2, mid, nil, m2, v2, &c)
	for j := range n {
		if w[j] != w2[j] || m[j] != m2[j] || v[j] != v2[j] || g[j] != g0[j] || h[j] != h0[j] {
			t.Fatalf("element %d: the averaged step gives w %g m %g v %g, the step on the mean w %g m %g v %g (halves %g %g, were %g %g)",
				j, w[j], m[j], v[j], w2[j], m2[j], v2[j], g[j], h[j], g0[j], h0[j])
		}
	}
}

// TestAdamFirstStep checks the formula itself: Adam's first step moves
// each weight by lr against its gradient's sign, m̂ = g and v̂ = g².
func TestAdamFirstStep(t *testing.T) {
	w := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	g := []float32{0.5, -0.5, 2, -2, 1e-3, -1e-3, 4, -4, 0.25}
	m, v := make([]float32, 9), make([]float32, 9)
	c := NewCoef(0.9, 0.999, 1e-8, 0.1, 0, 1)
	Update(w, g, nil, m, v, &c)
	for j := range w {
		want := 1 - 0.1*math.Copysign(1, float64(g[j]))
		if math.Abs(float64(w[j])-want) > 1e-5 {
			t.Errorf("w[%d] = %g after one step on gradient %g, want %g", j, w[j], g[j], want)
		}
	}
}

func clone(s []float32) []float32 {
	if s == nil {
		return nil
	}
	return append([]float32(nil), s...)
}

// BenchmarkUpdate is one step over MobileNet-V3-Large's 5.5 million
// weights on one core.
func BenchmarkUpdate(b *testing.B) {
	for name, im := range impls() {
		b.Run(name, func(b *testing.B) {
			const n = 5_480_000
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for j := range g {
				g[j] = float32(j%7) * 0.01
			}
			c := NewCoef(0.9, 0.999, 1e-8, 1e-3, 0, 3)
			b.SetBytes(7 * 4 * n)
			for b.Loop() {
				done, _ := im.update(w, g, nil, m, v, &c)
				update(w[done:], g[done:], nil, m[done:], v[done:], &c)
			}
		})
	}
}
