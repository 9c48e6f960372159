package ops

import "math"

func init() {
	register("Sigmoid", 6, unaryOfY(sigmoid32, func(y float32) float32 { return y * (1 - y) }))
}

// sigmoid32 is 1/(1+e^-x), evaluated so that neither branch overflows.
func sigmoid32(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}
