package ops

import "math"

func init() {
	register("Erf", 9, unary(
		func(x float32) float32 { return float32(math.Erf(float64(x))) },
		func(x, y float32) float32 { return float32(2 / math.SqrtPi * math.Exp(-float64(x)*float64(x))) }))
}
