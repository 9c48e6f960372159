package pixelstep

import "math"

// Step moves adv one step of sgn·alpha along grad's sign and projects it
// onto the ε-ball around x and onto [0,1], as fgsm.Step documents. x and
// grad are at least as long as adv.
func Step(adv, x, grad []float32, sgn, alpha, eps float32) {
	stepWith(native, adv, x, grad, sgn*alpha, eps)
}

// stepWith is Step on implementation im, with a = sgn·alpha: im takes a
// prefix, the Go loop the vector im stopped before or the remainder, and
// im goes on after it.
func stepWith(im impl, adv, x, grad []float32, a, eps float32) {
	x, grad = x[:len(adv)], grad[:len(adv)]
	for {
		n := im.step(adv, x, grad, a, eps)
		k := min(n+width, len(adv))
		step(adv[n:k], x[n:k], grad[n:k], a, eps)
		if k == len(adv) {
			return
		}
		adv, x, grad = adv[k:], x[k:], grad[k:]
	}
}

// width is the elements in one of the assembly's vectors.
const width = 16

// impl steps a prefix of adv, as step, and returns its length. It stops
// short of a vector it leaves to the Go loop: one where a sum or
// difference is NaN, or the remainder shorter than a vector.
type impl interface {
	step(adv, x, grad []float32, a, eps float32) int
}

// goImpl does everything with the Go loop.
type goImpl struct{}

func (goImpl) step(adv, x, grad []float32, a, eps float32) int {
	step(adv, x, grad, a, eps)
	return len(adv)
}

// step is the Go loop, the reference the assembly matches. The step a
// (sgn·alpha) takes grad's sign bit; a zero or NaN gradient gives a·0.
// Sign bits, not sign's branches: a model's gradient signs are as good as
// random, and the branches mispredicted on about every other pixel.
func step(adv, x, grad []float32, a, eps float32) {
	x, grad = x[:len(adv)], grad[:len(adv)]
	bits := math.Float32bits(a)
	for j, v := range adv {
		g := grad[j]
		d := math.Float32frombits(bits ^ math.Float32bits(g)&signBit)
		if g == 0 || g != g {
			d = a * 0
		}
		adv[j] = ClipLinf(v+d, x[j], eps)
	}
}

// signBit is a float32's sign bit.
const signBit = 1 << 31

// ClipLinf projects pixel v onto the ε-ball around clean pixel x, then
// onto [0,1], with Go's min and max (NaN in, NaN out; max(−0, +0) is +0).
func ClipLinf(v, x, eps float32) float32 { return min(max(min(max(v, x-eps), x+eps), 0), 1) }
