package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// actValues returns n floats over the range the activations bend in and
// far past it (where the exponential would overflow or go subnormal),
// with ±0, NaN and ±Inf planted among them.
func actValues(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(-1)), 3, -3, 6, -87, -88, 88, 100, -100}
	v := make([]float32, n)
	for i := range v {
		switch rng.IntN(8) {
		case 0:
			v[i] = special[rng.IntN(len(special))]
		case 1:
			v[i] = float32(rng.NormFloat64() * 60)
		default:
			v[i] = float32(rng.NormFloat64() * 4)
		}
	}
	return v
}

// sameBits reports whether a and b are the same float, any NaN matching
// any other.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// testActs checks the activation kernels against the scalar definitions
// (Sigmoid, HardSigmoid, ClipValue) bit for bit on every length to 300,
// with and without the gradient or mask, and that nothing past the end
// is written.
func testActs(t *testing.T, c checked) {
	ak := ActKernels{c.k}
	rng := rand.New(rand.NewPCG(41, 42))
	const guard = 3
	for n := range 300 {
		x := actValues(rng, n)
		for _, grad := range []bool{false, true} {
			y, d := guarded(n, guard), guarded(n, guard)
			dd := d[:n]
			if !grad {
				dd = nil
			}
			ak.SiLU(y[:n], dd, x)
			for i, v := range x {
				s := Sigmoid(v)
				wy, wd := v*s, s+float32(v*s*(1-s))
				if !sameBits(y[i], wy) || grad && !sameBits(d[i], wd) {
					t.Fatalf("SiLU n=%d: x %v gives y %v, d %v; want %v, %v", n, v, y[i], d[i], wy, wd)
				}
			}
			checkGuard(t, "SiLU", n, y, d)
			for _, ab := range [][2]float32{{1.0 / 6, 0.5}, {0.2, 0.5}} {
				ak.HardSwish(y[:n], dd, x, ab[0], ab[1])
				for i, v := range x {
					u := float32(ab[0]*v) + ab[1]
					g := max(0, min(1, u))
					wy, wd := v*g, g
					if u > 0 && u < 1 {
						wd += float32(v * ab[0])
					}
					if !sameBits(y[i], wy) || grad && !sameBits(d[i], wd) {
						t.Fatalf("HardSwish %v n=%d: x %v gives y %v, d %v; want %v, %v", ab, n, v, y[i], d[i], wy, wd)
					}
				}
				checkGuard(t, "HardSwish", n, y, d)
			}
			testClip(t, ak, x, grad)
		}
	}
}

// testClip checks Clip on x for a ReLU6 and a two-sided bound, with the
// mask where grad is set.
func testClip(t *testing.T, ak ActKernels, x []float32, grad bool) {
	n := len(x)
	for _, b := range [][2]float32{{0, 6}, {-1.5, 2}, {float32(math.Inf(-1)), 1}, {2, 1}} {
		y := guarded(n, 3)
		var m []uint64
		if grad {
			m = make([]uint64, (n+63)/64+1)
			m[len(m)-1] = 0xdead
		}
		ak.Clip(y[:n], x, m, b[0], b[1])
		for i, v := range x {
			want := min(max(v, b[0]), b[1])
			if !sameBits(y[i], want) {
				t.Fatalf("Clip %v n=%d: x %v gives %v, want %v", b, n, v, y[i], want)
			}
			if grad && (m[i/64]>>(i%64)&1 == 1) != (want == v) {
				t.Fatalf("Clip %v n=%d: mask bit %d wrong for x %v", b, n, i, v)
			}
		}
		if grad && (m[len(m)-1] != 0xdead || n%64 != 0 && m[len(m)-2]>>(n%64) != 0) {
			t.Fatalf("Clip n=%d: mask written past the end", n)
		}
		checkGuard(t, "Clip", n, y, y)
	}
}

// guarded returns n+guard floats, the last guard of them −7.
func guarded(n, guard int) []float32 {
	v := make([]float32, n+guard)
	for i := range guard {
		v[n+i] = -7
	}
	return v
}

func checkGuard(t *testing.T, name string, n int, ys ...[]float32) {
	t.Helper()
	for _, y := range ys {
		for _, v := range y[n:] {
			if v != -7 {
				t.Fatalf("%s n=%d: written past the end", name, n)
			}
		}
	}
}

// TestSigmoidAccuracy checks Sigmoid and the SiLU gradient against
// float64 arithmetic: within 4 units in the last place wherever the exact
// value is a normal float.
func TestSigmoidAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	worst := 0.0
	for i := range 200000 {
		x := float32(rng.NormFloat64() * 20)
		if i < 2000 {
			x = -87 + float32(i)*0.087 // the low end, through the clamp
		}
		want := 1 / (1 + math.Exp(-float64(x)))
		if want < 0x1p-126 {
			continue
		}
		got := float64(Sigmoid(x))
		ulp := float64(math.Nextafter32(float32(want), 2)) - float64(float32(want))
		if e := math.Abs(got-want) / ulp; e > worst {
			worst = e
			if e > 4 {
				t.Fatalf("Sigmoid(%v) = %v, want %v: %.1f ulp off", x, got, want, e)
			}
		}
	}
	t.Logf("worst error %.2f ulp", worst)
}

// TestDot checks Dot's implementations against float64 sums, and against
// each other bit for bit (they sum in one order), on every length to 300.
func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	for n := 1; n < 300; n++ {
		a, b := randFloats(rng, n), randFloats(rng, n+5)
		var want, mag float64
		for i := range a {
			want += float64(a[i]) * float64(b[i])
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		first := impls[0].k.dot(a, b[:n])
		for _, im := range impls {
			got := im.k.dot(a, b[:n])
			if math.Abs(float64(got)-want) > 1e-6*mag {
				t.Fatalf("%s: Dot of %d = %v, want %v", im.name, n, got, want)
			}
			if math.Float32bits(got) != math.Float32bits(first) {
				t.Fatalf("Dot of %d: %s gives %v, %s %v", n, im.name, got, impls[0].name, first)
			}
		}
	}
	if Dot(nil, nil) != 0 {
		t.Error("Dot of nothing is not 0")
	}
}

// TestElementwise checks Mul and Add on each implementation against the
// float32 product and sum on every length to 100, in place on either
// operand too, and that they write nothing past the end.
func TestElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 50))
	for _, op := range []struct {
		name string
		run  func(ak ActKernels, dst, a, b []float32)
		f    func(a, b float32) float32
	}{
		{"Mul", ActKernels.Mul, func(a, b float32) float32 { return a * b }},
		{"Add", ActKernels.Add, func(a, b float32) float32 { return a + b }},
	} {
		for _, im := range impls {
			ak := ActKernels{im.k}
			for n := range 100 {
				a, b := randFloats(rng, n), randFloats(rng, n)
				want := make([]float32, n)
				for i := range want {
					want[i] = op.f(a[i], b[i])
				}
				dst := guarded(n, 2)
				op.run(ak, dst[:n], a, b)
				checkGuard(t, op.name, n, dst)
				inA, inB := append([]float32(nil), a...), append([]float32(nil), b...)
				op.run(ak, inA, inA, b)
				op.run(ak, inB, a, inB)
				for i, w := range want {
					if dst[i] != w || inA[i] != w || inB[i] != w {
						t.Fatalf("%s: %s of %d: [%d] is %v (in place %v, %v), want %v", im.name, op.name, n, i, dst[i], inA[i], inB[i], w)
					}
				}
			}
		}
	}
}

// TestScalar checks Scale, Shift and Fill on each implementation against
// the float32 operation on every length to 100, Scale and Shift in place
// too, and that they write nothing past the end.
func TestScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, op := range []struct {
		name string
		run  func(ak ActKernels, dst, src []float32, c float32)
		f    func(x, c float32) float32
	}{
		{"Scale", ActKernels.Scale, func(x, c float32) float32 { return x * c }},
		{"Shift", ActKernels.Shift, func(x, c float32) float32 { return x + c }},
		{"Fill", func(ak ActKernels, dst, _ []float32, c float32) { ak.Fill(dst, c) }, func(_, c float32) float32 { return c }},
	} {
		for _, im := range impls {
			ak := ActKernels{im.k}
			for n := range 100 {
				src, c := randFloats(rng, n), rng.Float32()*4-2
				dst := guarded(n, 2)
				op.run(ak, dst[:n], src, c)
				checkGuard(t, op.name, n, dst)
				in := append([]float32(nil), src...)
				op.run(ak, in, in, c)
				for i, x := range src {
					if w := op.f(x, c); dst[i] != w || in[i] != w {
						t.Fatalf("%s: %s of %d: [%d] is %v (in place %v), want %v", im.name, op.name, n, i, dst[i], in[i], w)
					}
				}
			}
		}
	}
}

// TestInterleave checks Deinterleave and Interleave on each
// implementation against their definitions on every length to 100, and
// that they write nothing past the ends.
func TestInterleave(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	for _, im := range impls {
		for n := range 100 {
			src := randFloats(rng, 2*n)
			even, odd := guarded(n, 2), guarded(n, 2)
			deinterleaveOn(im.k, even[:n], odd[:n], src)
			for j := range n {
				if even[j] != src[2*j] || odd[j] != src[2*j+1] {
					t.Fatalf("%s: Deinterleave of %d: [%d] is %v, %v; want %v, %v", im.name, n, j, even[j], odd[j], src[2*j], src[2*j+1])
				}
			}
			checkGuard(t, "Deinterleave", n, even, odd)
			dst := guarded(2*n, 2)
			interleaveOn(im.k, dst[:2*n], even[:n], odd[:n])
			for j := range 2 * n {
				if dst[j] != src[j] {
					t.Fatalf("%s: Interleave of %d: [%d] is %v, want %v", im.name, n, j, dst[j], src[j])
				}
			}
			checkGuard(t, "Interleave", 2*n, dst)
		}
	}
}
