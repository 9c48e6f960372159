package ops

import "math"

func init() {
	// The derivative, 2/√π·exp(-x²), reads x alone: a gradient pass keeps
	// no copy of y (GELU's erf(x/√2) would be a third tensor of the MLP's
	// width per block).
	register("Erf", 9, func(*Node) (Op, error) {
		return unaryOp{
			f:    func(x float32) float32 { return float32(math.Erf(float64(x))) },
			df:   func(x, _ float32) float32 { return float32(2 / math.SqrtPi * math.Exp(-float64(x)*float64(x))) },
			skip: opY,
		}, nil
	})
}
