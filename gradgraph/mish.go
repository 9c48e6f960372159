package gradgraph

// Mish, y = x·tanh(softplus(x)): dx = dy·(t + x·sigmoid(x)·(1 − t²)) with
// t = tanh(softplus(x)).
func init() {
	register("Mish", unary(func(b *builder, x, y string) string {
		t := b.op("Tanh", []string{b.op("Softplus", []string{x})})
		s := b.op("Mul", []string{x, b.op("Sigmoid", []string{x})})
		return b.op("Add", []string{t, b.op("Mul", []string{s, b.op("Sub", []string{b.scalar(1), b.op("Mul", []string{t, t})})})})
	}))
}
