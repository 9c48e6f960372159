package ops

import "math"

// Mish (opset 18) is x·tanh(softplus(x)); with t = tanh(softplus(x)) its
// derivative is t + x·σ(x)·(1 − t²).
func init() {
	register("Mish", 18, unary(
		func(x float32) float32 { return float32(float64(x) * math.Tanh(softplus64(float64(x)))) },
		func(x, y float32) float32 {
			t := math.Tanh(softplus64(float64(x)))
			return float32(t + float64(x)*float64(sigmoid32(x))*(1-t*t))
		}))
}

// softplus64 is log(1+eˣ) without overflow for large x.
func softplus64(v float64) float64 { return max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) }
