package ops

// Softsign is x/(1+|x|), with derivative 1/(1+|x|)².
func init() {
	register("Softsign", 1, unary(
		func(x float32) float32 { return x / (1 + max(x, -x)) },
		func(x, y float32) float32 {
			d := 1 + max(x, -x)
			return 1 / (d * d)
		}))
}
