package ops

import "math"

func init() {
	register("Tanh", 6, unaryOfY(
		func(x float32) float32 { return float32(math.Tanh(float64(x))) },
		func(y float32) float32 { return 1 - y*y }))
}
