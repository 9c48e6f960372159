package gradgraph

// Sqrt: dx = dy·0.5/y.
func init() {
	register("Sqrt", unary(func(b *builder, x, y string) string {
		return b.op("Div", []string{b.scalar(0.5), y})
	}))
}
