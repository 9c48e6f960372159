package ops

import "math"

// Softplus is log(1+eˣ), written as max(x,0) + log1p(e^-|x|) so that large
// inputs neither overflow nor lose their value.
func init() {
	register("Softplus", 1, unary(
		func(x float32) float32 {
			v := float64(x)
			return float32(max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))))
		},
		func(x, y float32) float32 { return sigmoid32(x) }))
}
