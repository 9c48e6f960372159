package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maskValues returns n random floats with the values a mask must place
// right planted among them: ±0, NaN, ±Inf and the smallest subnormals.
func maskValues(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(-1)), math.Float32frombits(1), -math.Float32frombits(1), math.MaxFloat32}
	v := randFloats(rng, n)
	for i := range v {
		if rng.IntN(5) == 0 {
			v[i] = special[rng.IntN(len(special))]
		}
	}
	return v
}

// testMasks checks the three mask kernels against their definitions, bit
// for bit, on every length to 300 (whole words and every tail) and, for
// Pass, every start within a word and past it, and checks that nothing
// past the end is written.
func testMasks(t *testing.T, c checked) {
	mk := MaskKernels{c.k}
	rng := rand.New(rand.NewPCG(31, 32))
	const guard = 5
	for n := range 300 {
		x := maskValues(rng, n)
		words := (n + 63) / 64
		y, m, pm := make([]float32, n+guard), make([]uint64, words+1), make([]uint64, words+1)
		for i := range guard {
			y[n+i] = -7
		}
		m[words], pm[words] = 0xdead, 0xdead
		mk.Relu(y[:n], x, m[:words])
		mk.Positive(pm[:words], x)
		for i, v := range x {
			want := max(v, 0)
			if math.Float32bits(y[i]) != math.Float32bits(want) && !(math.IsNaN(float64(v)) && math.IsNaN(float64(y[i]))) {
				t.Fatalf("Relu n=%d: y[%d] = %v (bits %#x) for x %v, want %v", n, i, y[i], math.Float32bits(y[i]), v, want)
			}
			bit := m[i/64]>>(i%64)&1 == 1
			if bit != (v > 0) || pm[i/64]>>(i%64)&1 != m[i/64]>>(i%64)&1 {
				t.Fatalf("n=%d: bit %d is %v (Positive's %d) for %v", n, i, bit, pm[i/64]>>(i%64)&1, v)
			}
		}
		if n%64 != 0 && (m[words-1]>>(n%64) != 0 || pm[words-1]>>(n%64) != 0) {
			t.Fatalf("n=%d: bits set past the end of the last word", n)
		}
		if y[n] != -7 || y[n+guard-1] != -7 || m[words] != 0xdead || pm[words] != 0xdead {
			t.Fatalf("n=%d: written past the end", n)
		}
		for _, start := range []int{0, 1, 17, 63, 64, 65, 130} {
			testPass(t, mk, rng, n, start)
		}
	}
}

// testPass checks Pass for n elements from bit start of a random mask.
func testPass(t *testing.T, mk MaskKernels, rng *rand.Rand, n, start int) {
	const guard = 5
	m := make([]uint64, (start+n+63)/64)
	for i := range m {
		m[i] = rng.Uint64()
	}
	dy, dx := maskValues(rng, n), make([]float32, n+guard)
	for i := range dx {
		dx[i] = -7
	}
	mk.Pass(dx[:n], dy, m, start)
	for j, g := range dy {
		want := uint32(0)
		if b := start + j; m[b/64]>>(b%64)&1 == 1 {
			want = math.Float32bits(g)
		}
		if math.Float32bits(dx[j]) != want {
			t.Fatalf("Pass n=%d start=%d: dx[%d] bits %#x, want %#x", n, start, j, math.Float32bits(dx[j]), want)
		}
	}
	if dx[n] != -7 {
		t.Fatalf("Pass n=%d start=%d: written past the end", n, start)
	}
}

// BenchmarkMasks times the mask kernels of each implementation on a
// Relu of 16×64×56×56 floats (a ResNet stage at batch 16), in GB/s of
// floats read and written.
func BenchmarkMasks(b *testing.B) {
	const n = 16 * 64 * 56 * 56
	rng := rand.New(rand.NewPCG(1, 2))
	x, y, dx := randFloats(rng, n), make([]float32, n), make([]float32, n)
	m := make([]uint64, (n+63)/64)
	for _, im := range impls {
		mk := MaskKernels{im.k}
		for _, k := range []struct {
			name  string
			bytes int
			run   func()
		}{
			{"Relu", 8 * n, func() { mk.Relu(y, x, m) }},
			{"Positive", 4 * n, func() { mk.Positive(m, x) }},
			{"Pass", 8 * n, func() { mk.Pass(dx, x, m, 0) }},
		} {
			b.Run(im.name+"/"+k.name, func(b *testing.B) {
				b.SetBytes(int64(k.bytes))
				for b.Loop() {
					k.run()
				}
			})
		}
	}
}
