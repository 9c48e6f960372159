package gradgraph

// Softplus, y = log(1 + eˣ): dx = dy·sigmoid(x).
func init() {
	register("Softplus", unary(func(b *builder, x, y string) string {
		return b.op("Sigmoid", []string{x})
	}))
}
