package ops

import "math"

// Cos, elementwise; its derivative is −sin x.
func init() {
	register("Cos", 7, unary(
		func(x float32) float32 { return float32(math.Cos(float64(x))) },
		func(x, _ float32) float32 { return -float32(math.Sin(float64(x))) }))
}
