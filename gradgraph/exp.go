package gradgraph

// Exp: dx = dy·y.
func init() {
	register("Exp", unary(func(b *builder, x, y string) string { return y }))
}
