package gradgraph

// Softsign, y = x/(1 + |x|): dx = dy/(1 + |x|)².
func init() {
	register("Softsign", unary(func(b *builder, x, y string) string {
		d := b.op("Add", []string{b.scalar(1), b.op("Abs", []string{x})})
		return b.op("Reciprocal", []string{b.op("Mul", []string{d, d})})
	}))
}
