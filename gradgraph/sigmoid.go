package gradgraph

// Sigmoid: dx = dy·y·(1 − y).
func init() {
	register("Sigmoid", unary(func(b *builder, x, y string) string {
		return b.op("Mul", []string{y, b.op("Sub", []string{b.scalar(1), y})})
	}))
}
