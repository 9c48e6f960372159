package ops

import "math"

func init() {
	register("Log", 6, unary(
		func(x float32) float32 { return float32(math.Log(float64(x))) },
		func(x, y float32) float32 { return 1 / x }))
}
