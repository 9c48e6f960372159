package pixelstep

import (
	"encoding/binary"
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

var (
	nan     = float32(math.NaN())
	inf     = float32(math.Inf(1))
	negZero = float32(math.Copysign(0, -1))
	// specials are the values at the edges of every comparison and sum:
	// NaNs of both signs and two payloads, zeros, infinities, subnormals,
	// the neighbours of 0 and 1, and the largest float32.
	specials = []float32{
		nan, -nan, math.Float32frombits(0x7fc00123), math.Float32frombits(0xff800001),
		0, negZero, inf, -inf,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.Float32frombits(0x007fffff), -math.Float32frombits(0x007fffff),
		1, -1, math.Nextafter32(1, 0), math.Nextafter32(1, 2), 1e-38, -1e-38, 0.5,
		math.MaxFloat32, -math.MaxFloat32,
	}
)

// mix says how often fill draws a value from specials instead: never
// for 0, else one in every; noNaN skips specials' NaNs.
type mix struct {
	every int
	noNaN bool
}

// fill makes adv, x and grad of length n: pixels in [0,1] and an
// adversarial example near them, a Gaussian gradient with zeros of both
// signs, and values drawn from specials as m says. nanAt poisons adv or
// x (alternately) at the given indices.
func fill(rng *rand.Rand, n int, m mix, nanAt []int) (adv, x, grad []float32) {
	adv, x, grad = make([]float32, n), make([]float32, n), make([]float32, n)
	pick := func(v float32) float32 {
		if m.every == 0 || rng.IntN(m.every) != 0 {
			return v
		}
		s := specials[rng.IntN(len(specials))]
		for m.noNaN && s != s {
			s = specials[rng.IntN(len(specials))]
		}
		return s
	}
	for j := range n {
		x[j] = pick(rng.Float32())
		adv[j] = pick(x[j] + float32(rng.NormFloat64()*0.05))
		grad[j] = pick(float32(rng.NormFloat64()))
		if rng.IntN(10) == 0 {
			grad[j] = []float32{0, negZero}[rng.IntN(2)]
		}
	}
	for i, j := range nanAt {
		if j >= 0 && j < n {
			[][]float32{adv, x}[i%2][j] = nan
		}
	}
	return adv, x, grad
}

// counted is an implementation that adds the elements it steps to n.
type counted struct {
	impl
	n *int
}

func (c counted) step(adv, x, grad []float32, a, eps float32) int {
	k := c.impl.step(adv, x, grad, a, eps)
	*c.n += k
	return k
}

// TestStep checks every implementation, with the Go loop after it as
// Step runs them, against the Go loop alone bit for bit (NaN included:
// the Go loop does every vector holding one), over lengths around the
// assembly's 16; random pixels and pixels mixed with special values,
// often and NaN aside (for the assembly), rarely and often with NaN;
// NaN in the middle of a vector, in the tail and in consecutive vectors;
// and steps and radii zero, subnormal, huge, infinite and NaN.
func TestStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	placements := []struct {
		name  string
		nanAt func(n int) []int
	}{
		{"none", func(int) []int { return nil }},
		{"mid", func(n int) []int { return []int{n / 2, n/2 + 1} }},
		{"tail", func(n int) []int { return []int{n - 1} }},
		{"consecutive", func(int) []int { return []int{3, 16 + 15, 32, 48 + 8, 64 + 9} }},
	}
	alphas := []float32{8.0 / 255, 0, 1, math.SmallestNonzeroFloat32, math.MaxFloat32, inf, nan}
	epss := []float32{8.0 / 255, 0, negZero, 0.3, math.SmallestNonzeroFloat32, 3e38, inf, nan}
	mixes := []mix{{}, {every: 3, noNaN: true}, {every: 50}, {every: 3}}
	for name, im := range impls() {
		var stepped, total int
		im := counted{im, &stepped}
		for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 80, 1001} {
			for _, m := range mixes {
				for _, p := range placements {
					for _, sgn := range []float32{1, -1} {
						for _, alpha := range alphas {
							for _, eps := range epss {
								adv, x, grad := fill(rng, n, m, p.nanAt(n))
								total += n
								want := clone(adv)
								step(want, x, grad, sgn*alpha, eps)
								stepWith(im, adv, x, grad, sgn*alpha, eps)
								if j := mismatch(adv, want); j >= 0 {
									t.Fatalf("%s: n %d specials %+v NaN %s sgn %g alpha %g eps %g: adv[%d] = %g (%#x), want %g (%#x)",
										name, n, m, p.name, sgn, alpha, eps, j, adv[j], math.Float32bits(adv[j]), want[j], math.Float32bits(want[j]))
								}
							}
						}
					}
				}
			}
		}
		// The assembly must have had its share, or the test says little.
		t.Logf("%s stepped %d of %d elements", name, stepped, total)
		if stepped < total/4 {
			t.Errorf("%s stepped %d of %d elements, want a quarter at least", name, stepped, total)
		}
	}
}

// TestPrefix checks where the assembly stops: after every whole vector
// when no sum or difference is NaN, before the first vector holding one
// otherwise, having stepped the vectors before it as the Go loop does
// and left the rest untouched.
func TestPrefix(t *testing.T) {
	if !Available {
		t.Skip("no assembly on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i, test := range []struct {
		n     int
		nanAt []int // NaN in adv, x, adv, … at these indices
		eps   float32
		want  int
	}{
		{n: 15, want: 0},
		{n: 16, want: 16},
		{n: 33, want: 32},
		{n: 1001, want: 992},
		{n: 64, nanAt: []int{0}, want: 0},
		{n: 64, nanAt: []int{-1, 21}, want: 16},
		{n: 64, nanAt: []int{-1, -1, 47}, want: 32},
		{n: 64, nanAt: []int{63}, want: 48},
		{n: 64, nanAt: []int{60}, eps: inf, want: 48}, // x ± ∞ is ±∞ for finite x: only adv[60] is NaN
		{n: 40, nanAt: []int{35}, want: 32},           // NaN in the tail: not the assembly's
		{n: 64, eps: nan, want: 0},
	} {
		adv, x, grad := fill(rng, test.n, mix{}, test.nanAt)
		eps := test.eps
		if eps == 0 {
			eps = 8.0 / 255
		}
		want, before := clone(adv), clone(adv)
		step(want, x, grad, 8.0/255, eps)
		got := native.step(adv, x, grad, 8.0/255, eps)
		if got != test.want {
			t.Errorf("case %d: stepped %d elements, want %d", i, got, test.want)
		}
		if j := mismatch(adv[:got], want[:got]); j >= 0 {
			t.Errorf("case %d: adv[%d] = %g, want %g", i, j, adv[j], want[j])
		}
		if j := mismatch(adv[got:], before[got:]); j >= 0 {
			t.Errorf("case %d: adv[%d] changed from %g to %g past the prefix", i, got+j, before[got+j], adv[got+j])
		}
	}
}

// FuzzStep runs Step and the Go loop on the same float32 bits: adv, x and
// grad interleaved, with the step and the radius in front.
func FuzzStep(f *testing.F) {
	seed := make([]byte, 8+3*4*40)
	for i, v := range append([]float32{8.0 / 255, 8.0 / 255}, specials...) {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(v))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 8 {
			return
		}
		word := func(i int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])) }
		a, eps := word(0), word(1)
		n := (len(data) - 8) / 12
		adv, x, grad := make([]float32, n), make([]float32, n), make([]float32, n)
		for j := range n {
			adv[j], x[j], grad[j] = word(2+3*j), word(3+3*j), word(4+3*j)
		}
		want := clone(adv)
		step(want, x, grad, a, eps)
		stepWith(native, adv, x, grad, a, eps)
		if j := mismatch(adv, want); j >= 0 {
			t.Fatalf("a %g eps %g: adv[%d] = %#x, want %#x", a, eps, j, math.Float32bits(adv[j]), math.Float32bits(want[j]))
		}
	})
}

// mismatch is the first index where got and want differ in their bits,
// or -1.
func mismatch(got, want []float32) int {
	for j := range got {
		if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
			return j
		}
	}
	return -1
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

// BenchmarkStep times each implementation over 16 ImageNet images.
func BenchmarkStep(b *testing.B) {
	const n = 16 * 3 * 224 * 224
	rng := rand.New(rand.NewPCG(1, 2))
	adv, x, grad := fill(rng, n, mix{}, nil)
	for name, im := range impls() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				stepWith(im, adv, x, grad, 8.0/255, 8.0/255)
			}
		})
	}
}
