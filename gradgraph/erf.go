package gradgraph

import "math"

// Erf: dx = dy·2/√π·exp(−x²).
func init() {
	register("Erf", unary(func(b *builder, x, y string) string {
		e := b.op("Exp", []string{b.op("Neg", []string{b.op("Mul", []string{x, x})})})
		return b.op("Mul", []string{e, b.scalar(float32(2 / math.SqrtPi))})
	}))
}
