package ops

import "math"

func init() {
	register("Sqrt", 6, unary(
		func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
		func(x, y float32) float32 { return 0.5 / y }))
}
