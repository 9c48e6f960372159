package kernel

import "math"

// ActKernels run the elementwise activations that MobileNet and
// EfficientNet spend their forward pass in: the gates y = x·g(x) of SiLU
// (g the logistic sigmoid) and HardSwish (g a HardSigmoid), each writing
// dy/dx beside y for a gradient pass, and Clip (ReLU6) with the bit mask
// of where its gradient passes. The assembly takes 16 floats a step; the
// Go twins give the same bits and take the tails. Acts picks the
// implementation once, for a node.
type ActKernels struct{ k impl }

// Acts returns the activation kernels: the assembly where vector is set
// and this CPU runs it, the Go twins otherwise.
func Acts(vector bool) ActKernels {
	if vector {
		return ActKernels{native}
	}
	return ActKernels{goKernels{}}
}

// SiLU writes y = x·σ(x) (σ as Sigmoid computes it) and, where d is not
// nil, d = dy/dx = σ(x) + x·σ(x)·(1−σ(x)). y and d must be as long as x.
func (ak ActKernels) SiLU(y, d, x []float32) {
	_ = y[:len(x)]
	if d != nil {
		_ = d[:len(x)]
	}
	whole := len(x) &^ (Lanes - 1)
	if whole > 0 {
		ak.k.silu(y[:whole], part(d, 0, whole), x[:whole])
	}
	siluGo(y[whole:len(x)], part(d, whole, len(x)), x[whole:])
}

// HardSwish writes y = x·g with g = HardSigmoid(x) = clamp(alpha·x+beta,
// 0, 1) (HardSigmoid's bits) and, where d is not nil, d = dy/dx = g, plus
// alpha·x where 0 < alpha·x+beta < 1.
func (ak ActKernels) HardSwish(y, d, x []float32, alpha, beta float32) {
	_ = y[:len(x)]
	if d != nil {
		_ = d[:len(x)]
	}
	whole := len(x) &^ (Lanes - 1)
	if whole > 0 {
		ak.k.hardSwish(y[:whole], part(d, 0, whole), x[:whole], alpha, beta)
	}
	hardSwishGo(y[whole:len(x)], part(d, whole, len(x)), x[whole:], alpha, beta)
}

// Clip writes y = x limited to [lo, hi] (ClipValue's bits) and, where m
// is not nil, the mask of y = x (the elements whose gradient passes; a
// NaN's does not), one bit per element as the Relu masks (masks.go); m
// must then hold (len(x)+63)/64 words.
func (ak ActKernels) Clip(y, x []float32, m []uint64, lo, hi float32) {
	_ = y[:len(x)]
	if m != nil {
		_ = m[:(len(x)+63)/64]
	}
	whole := len(x) / 64
	if whole > 0 {
		ak.k.clipMask(y[:64*whole], x[:64*whole], part(m, 0, whole), lo, hi)
	}
	clipMaskGo(y[64*whole:len(x)], x[64*whole:], part(m, whole, len(m)), lo, hi)
}

// Dot returns the sum of a[i]·b[i]; b must be at least as long as a. It
// sums as Sum does, in four vectors of 16 lanes, each product fused into
// its partial sum: a depthwise convolution's weight gradient, one tap at
// a time.
func Dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return native.dot(a, b[:len(a)])
}

// dotGo is the twin of the dot kernel.
func dotGo(a, b []float32) float32 {
	var acc [4][Lanes]float32
	i := 0
	for ; len(a)-i >= 4*Lanes; i += 4 * Lanes {
		for v := range 4 {
			for l := range Lanes {
				acc[v][l] = fma(a[i+v*Lanes+l], b[i+v*Lanes+l], acc[v][l])
			}
		}
	}
	for ; len(a)-i >= Lanes; i += Lanes {
		for l := range Lanes {
			acc[0][l] = fma(a[i+l], b[i+l], acc[0][l])
		}
	}
	for l, v := range a[i:] {
		acc[1][l] = fma(v, b[i+l], acc[1][l])
	}
	for l := range Lanes {
		acc[0][l] += acc[1][l]
		acc[2][l] += acc[3][l]
		acc[0][l] += acc[2][l]
	}
	return fold16(&acc[0])
}

// Mul writes dst[i] = a[i]·b[i] (a float32 product, the same bits on every
// implementation); a and b must be at least as long as dst, and dst may
// be either of them: the gradient through a gate folded into a
// convolution, a sample at a time on each worker (or the whole batch, for
// a part that takes it at once).
func (ak ActKernels) Mul(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	whole := len(dst) &^ (Lanes - 1)
	if whole > 0 {
		ak.k.mul(dst[:whole], a[:whole], b[:whole])
	}
	mulGo(dst[whole:], a[whole:], b[whole:])
}

// Add writes dst[i] = a[i] + b[i] (a float32 sum, the same bits on every
// implementation); a and b must be at least as long as dst, and dst may
// be either of them: a matrix product's blocks of terms summed into its
// result (gemm's kernel path).
func (ak ActKernels) Add(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	whole := len(dst) &^ (Lanes - 1)
	if whole > 0 {
		ak.k.add(dst[:whole], a[:whole], b[:whole])
	}
	addGo(dst[whole:], a[whole:], b[whole:])
}

// addGo is the twin of the add kernel.
func addGo(dst, a, b []float32) {
	_, _ = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// Scale writes dst[i] = src[i]·c, Shift dst[i] = src[i] + c (float32,
// the same bits on every implementation); src must be at least as long
// as dst, which may be src: a broadcast row of Mul or Add (a
// squeeze-and-excitation block's scale) and its gradient.
func (ak ActKernels) Scale(dst, src []float32, c float32) {
	src = src[:len(dst)]
	whole := len(dst) &^ (Lanes - 1)
	if whole > 0 {
		ak.k.scale(dst[:whole], src[:whole], c)
	}
	scaleGo(dst[whole:], src[whole:], c)
}

// Shift: see Scale.
func (ak ActKernels) Shift(dst, src []float32, c float32) {
	src = src[:len(dst)]
	whole := len(dst) &^ (Lanes - 1)
	if whole > 0 {
		ak.k.shift(dst[:whole], src[:whole], c)
	}
	shiftGo(dst[whole:], src[whole:], c)
}

// Fill writes c to every element of dst: a pooled plane's gradient.
func (ak ActKernels) Fill(dst []float32, c float32) {
	whole := len(dst) &^ (Lanes - 1)
	if whole > 0 {
		ak.k.fill(dst[:whole], c)
	}
	fillGo(dst[whole:], c)
}

// scaleGo, shiftGo and fillGo are the twins of the scalar kernels.
func scaleGo(dst, src []float32, c float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = v * c
	}
}

func shiftGo(dst, src []float32, c float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = v + c
	}
}

func fillGo(dst []float32, c float32) {
	for i := range dst {
		dst[i] = c
	}
}

// mulGo is the twin of the mul kernel.
func mulGo(dst, a, b []float32) {
	_, _ = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// Deinterleave writes even[j] = src[2j] and odd[j] = src[2j+1]; odd must
// be as long as even and src twice as long: a stride-2 row split into its
// two column phases.
func Deinterleave(even, odd, src []float32) { deinterleaveOn(native, even, odd, src) }

func deinterleaveOn(k impl, even, odd, src []float32) {
	n := len(even)
	_, _ = odd[:n], src[:2*n]
	whole := n &^ (Lanes - 1)
	if whole > 0 {
		k.deinterleave(even[:whole], odd[:whole], src[:2*whole])
	}
	goKernels{}.deinterleave(even[whole:n], odd[whole:n], src[2*whole:])
}

// Interleave writes dst[2j] = even[j] and dst[2j+1] = odd[j], the inverse
// of Deinterleave.
func Interleave(dst, even, odd []float32) { interleaveOn(native, dst, even, odd) }

func interleaveOn(k impl, dst, even, odd []float32) {
	n := len(even)
	_, _ = odd[:n], dst[:2*n]
	whole := n &^ (Lanes - 1)
	if whole > 0 {
		k.interleave(dst[:2*whole], even[:whole], odd[:whole])
	}
	goKernels{}.interleave(dst[2*whole:], even[whole:n], odd[whole:n])
}

// part returns s[lo:hi], or nil where s is nil.
func part[T any](s []T, lo, hi int) []T {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// Sigmoid is 1/(1+e^−x) in float32 arithmetic, the twin of the SiLU
// kernel's: with a = |x|, e = e^−a (expNeg) and σ = 1/(1+e) where x ≥ 0,
// e/(1+e) elsewhere, so that neither branch overflows. Within a few units
// in the last place of the exact value; below 1.2e-38 (x < −87) it stays
// at e^−87 rather than going subnormal.
func Sigmoid(x float32) float32 {
	e := expNeg(math.Float32frombits(math.Float32bits(x) | 1<<31))
	num := e
	if x >= 0 {
		num = 1
	}
	return num / (1 + e)
}

// The constants of expNeg: log2(e); 1.5·2^23, which added and taken away
// rounds a float below 2^22 to the nearest integer, ties to even; ln 2 in
// two parts (the first exact in 9 bits, so that k·ln2Hi is exact for the
// k that occur); and the Cephes polynomial for e^r on |r| ≤ ln2/2.
const (
	log2e  = 1.44269504088896341
	round  = 12582912
	ln2Hi  = 0.693359375
	ln2Lo  = -2.12194440e-4
	expMin = -87
	exp5   = 1.9875691500e-4
	exp4   = 1.3981999507e-3
	exp3   = 8.3334519073e-3
	exp2   = 4.1665795894e-2
	exp1   = 1.6666665459e-1
	exp0   = 5.0000001201e-1
)

// expNeg is e^t for t ≤ 0 (t is −|x|), t raised to −87 first so that
// the result stays a normal float: t = k·ln2 + r with k an integer and
// |r| ≤ ln2/2, e^r a polynomial, and 2^k put into its exponent. Every
// step rounds to float32 as the assembly's does (no fused multiply-add).
func expNeg(t float32) float32 {
	t = max(t, expMin)
	k := float32(t*log2e) + round
	k -= round
	r := t - float32(k*ln2Hi)
	r -= float32(k * ln2Lo)
	p := float32(exp5*r) + exp4
	p = float32(p*r) + exp3
	p = float32(p*r) + exp2
	p = float32(p*r) + exp1
	p = float32(p*r) + exp0
	e := float32(p*float32(r*r)) + r
	e++
	return e * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// siluGo is the twin of the SiLU kernel, d nil or as long as x.
func siluGo(y, d, x []float32) {
	for i, v := range x {
		s := Sigmoid(v)
		y[i] = v * s
		if d != nil {
			d[i] = s + float32(y[i]*(1-s))
		}
	}
}

// HardSigmoid is clamp(v, 0, 1) for v = alpha·x+beta, NaN staying NaN
// (as max(0, min(1, v)) gives it).
func HardSigmoid(v float32) float32 {
	switch {
	case v <= 0:
		return 0
	case v >= 1:
		return 1
	}
	return v
}

// hardSwishGo is the twin of the HardSwish kernel, d nil or as long as x.
func hardSwishGo(y, d, x []float32, alpha, beta float32) {
	for i, xv := range x {
		v := float32(alpha*xv) + beta
		g := HardSigmoid(v)
		y[i] = xv * g
		if d != nil {
			if v <= 0 || v >= 1 {
				d[i] = g
			} else {
				d[i] = g + float32(xv*alpha)
			}
		}
	}
}

// ClipValue is x limited to [lo, hi] as min(max(x, lo), hi), NaN staying
// NaN: c = lo where x ≤ lo, x elsewhere, then hi where c ≥ hi (so hi
// everywhere when lo > hi). Only a bound of −0 or +0 meeting x = ±0 can
// give the other zero than Go's min and max.
func ClipValue(x, lo, hi float32) float32 {
	c := x
	if x <= lo {
		c = lo
	}
	if c >= hi {
		c = hi
	}
	return c
}

// clipMaskGo is the twin of the Clip kernel for any length: the last word
// of m may be partial; m may be nil.
func clipMaskGo(y, x []float32, m []uint64, lo, hi float32) {
	for k := 0; 64*k < len(x); k++ {
		xs := x[64*k : min(64*k+64, len(x))]
		var w uint64
		for j, v := range xs {
			c := ClipValue(v, lo, hi)
			y[64*k+j] = c
			if c == v {
				w |= 1 << j
			}
		}
		if m != nil {
			m[k] = w
		}
	}
}
