package gradgraph

// Log: dx = dy/x.
func init() {
	register("Log", unary(func(b *builder, x, y string) string {
		return b.op("Reciprocal", []string{x})
	}))
}
