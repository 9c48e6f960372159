package ops

import "math"

// Round rounds halves to even, as ONNX (and NumPy) do; its gradient is 0,
// as Floor's (floor.go says why).
func init() {
	register("Round", 11, unary(
		func(x float32) float32 { return float32(math.RoundToEven(float64(x))) },
		func(x, y float32) float32 { return 0 }))
}
