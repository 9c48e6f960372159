package ops

import "math"

func init() {
	register("Exp", 6, unary(
		func(x float32) float32 { return float32(math.Exp(float64(x))) },
		func(x, y float32) float32 { return y }))
}
