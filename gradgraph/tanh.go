package gradgraph

// Tanh: dx = dy·(1 − y²).
func init() {
	register("Tanh", unary(func(b *builder, x, y string) string {
		return b.op("Sub", []string{b.scalar(1), b.op("Mul", []string{y, y})})
	}))
}
