package ops

func init() {
	register("Less", 7, comparison(func(a, b float64) bool { return a < b }, func(a, b int64) bool { return a < b }))
}
