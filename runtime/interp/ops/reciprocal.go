package ops

func init() {
	register("Reciprocal", 6, unary(
		func(x float32) float32 { return 1 / x },
		func(x, y float32) float32 { return -y * y }))
}
