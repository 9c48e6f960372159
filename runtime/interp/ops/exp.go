package ops

import "math"

func init() {
	register("Exp", 6, unaryOfY(
		func(x float32) float32 { return float32(math.Exp(float64(x))) },
		func(y float32) float32 { return y }))
}
