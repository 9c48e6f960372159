package ops

import "math"

// Floor, Ceil, Round and Sign are step functions: their derivative is 0
// wherever it exists, and that is the gradient they pass back (no
// straight-through estimate: a model that rounds inside its graph gets no
// input gradient through the rounding, and attacks see that).
func init() {
	register("Floor", 6, unary(
		func(x float32) float32 { return float32(math.Floor(float64(x))) },
		func(x, y float32) float32 { return 0 }))
}
