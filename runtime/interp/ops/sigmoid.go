package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

func init() {
	register("Sigmoid", 6, unaryOfY(sigmoid32, func(y float32) float32 { return y * (1 - y) }))
}

// sigmoid32 is 1/(1+e^-x) in float32 arithmetic, evaluated so that neither
// branch overflows: the SiLU kernel's sigmoid (kernel.Sigmoid), so that a
// fused SiLU gate gives the bits of Sigmoid and Mul.
func sigmoid32(x float32) float32 { return kernel.Sigmoid(x) }
