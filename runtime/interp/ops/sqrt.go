package ops

import "math"

func init() {
	register("Sqrt", 6, unaryOfY( // the derivative 1/(2y) reads y alone
		func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
		func(y float32) float32 { return 0.5 / y }))
}
