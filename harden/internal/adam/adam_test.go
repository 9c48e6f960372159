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
// decay on and off, and gradients from zero to large.
func TestUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, im := range impls() {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 64, 1001} {
			for _, step := range []int{1, 2, 1000} {
				for _, wd := range []float64{0, 0.05} {
					c := NewCoef(0.9, 0.999, 1e-8, 1e-3, wd, step)
					w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
					for j := range n {
						w[j] = float32(rng.NormFloat64())
						g[j] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-6)))
						if j%5 == 0 {
							g[j] = 0
						}
						m[j] = float32(rng.NormFloat64() * 0.01)
						v[j] = float32(rng.Float64() * 1e-4)
					}
					want := [4][]float32{clone(w), clone(g), clone(m), clone(v)}
					update(want[0], want[1], want[2], want[3], &c)
					done := im.update(w, g, m, v, &c)
					update(w[done:], g[done:], m[done:], v[done:], &c)
					if name == "native" && done != n&^7 {
						t.Errorf("native: n %d: took %d elements, want %d", n, done, n&^7)
					}
					for k, got := range [4][]float32{w, g, m, v} {
						for j := range got {
							if math.Float32bits(got[j]) != math.Float32bits(want[k][j]) {
								t.Fatalf("%s: n %d step %d wd %g: %s[%d] = %g, want %g", name, n, step, wd, "wgmv"[k:k+1], j, got[j], want[k][j])
							}
						}
					}
				}
			}
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
	Update(w, g, m, v, &c)
	for j := range w {
		want := 1 - 0.1*math.Copysign(1, float64(g[j]))
		if math.Abs(float64(w[j])-want) > 1e-5 {
			t.Errorf("w[%d] = %g after one step on gradient %g, want %g", j, w[j], g[j], want)
		}
	}
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

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
				done := im.update(w, g, m, v, &c)
				update(w[done:], g[done:], m[done:], v[done:], &c)
			}
		})
	}
}
