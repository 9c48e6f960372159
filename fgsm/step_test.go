package fgsm

import (
	"math"
	"testing"
)

// TestStepBits: Step gives, to the bit, sgn·alpha·sign(grad) added and
// projected as Step wrote it with sign's branches, on gradients that are zero, negative
// zero, NaN, infinite or tiny, up and down the loss, at the ε-ball's and
// [0,1]'s edges. Each sgn and alpha steps all its pixels in one call,
// long enough for the assembly's vectors and a tail.
func TestStepBits(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	grads := []float32{1, -1, 0, negZero, nan, inf, -inf, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 3e38}
	pixels := []float32{0, negZero, 1, 0.5, 0.02, 0.99}
	ref := func(v, x, g, sgn, alpha, eps float32) float32 { // Step's body before the sign bit
		return clipLinf(v+sgn*alpha*sign(g), x, eps)
	}
	for _, sgn := range []float32{1, -1} {
		for _, alpha := range []float32{0.03, 0, 1} {
			var adv, xs, gs []float32
			for _, x := range pixels {
				for _, v := range append(pixels, x) {
					for _, g := range grads {
						adv, xs, gs = append(adv, v), append(xs, x), append(gs, g)
					}
				}
			}
			v := append([]float32(nil), adv...)
			Step(adv, xs, gs, sgn, alpha, 0.05)
			for j := range adv {
				want := ref(v[j], xs[j], gs[j], sgn, alpha, 0.05)
				if math.Float32bits(adv[j]) != math.Float32bits(want) {
					t.Errorf("sgn %v alpha %v x %v v %v grad %v: %v, want %v", sgn, alpha, xs[j], v[j], gs[j], adv[j], want)
				}
			}
		}
	}
}
