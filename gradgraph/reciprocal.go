package gradgraph

// Reciprocal: dx = −dy·y².
func init() {
	register("Reciprocal", unary(func(b *builder, x, y string) string {
		return b.op("Neg", []string{b.op("Mul", []string{y, y})})
	}))
}
