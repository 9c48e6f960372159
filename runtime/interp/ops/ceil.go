package ops

import "math"

// The gradient of Ceil is 0, as Floor's (floor.go says why).
func init() {
	register("Ceil", 6, unary(
		func(x float32) float32 { return float32(math.Ceil(float64(x))) },
		func(x, y float32) float32 { return 0 }))
}
