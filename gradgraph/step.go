package gradgraph

import "math"

// step returns a float tensor that is 1 where v > t (above set) or v < t
// (above unset) and 0 elsewhere, as one HardSigmoid, max(0, min(1, α·v +
// β)), with α = ±2^k and β = ∓α·t. ONNX Runtime runs it as one vectorised
// pass, where a comparison and a Cast to float take two slower ones (the
// Relu masks of ResNet-50: 43 ms in place of 126).
//
// α a power of two makes α·v and α·t exact, so α·v + β is α·(v − t) rounded
// once, and it reaches 1 wherever v and t are at least 2^−k apart. k is
// the largest that keeps α·t finite (126 for t = 0, 123 for t = 6). Floats
// closer to t than 2^−k but not equal to it exist only where t is 0 (or
// subnormal): a subnormal v, below 2^−126, gets the fraction α·v of the
// gradient there, not all of it. A NaN v gets whatever HardSigmoid makes
// of it, where a comparison gave 0 (its loss is NaN anyway).
func (b *builder) step(v string, t float32, above bool) string {
	k := 126
	if t != 0 {
		_, e := math.Frexp(math.Abs(float64(t))) // |t| < 2^e
		k = min(126, 126-e)
	}
	alpha := float32(math.Ldexp(1, k))
	if !above {
		alpha = -alpha
	}
	return b.op("HardSigmoid", []string{v}, aFloat("alpha", alpha), aFloat("beta", -alpha*t))
}

// between returns 1 where lo < v < hi and 0 elsewhere (see step).
func (b *builder) between(v string, lo, hi float32) string {
	return b.op("Mul", []string{b.step(v, lo, true), b.step(v, hi, false)})
}
