package ops

// Opset 7 introduced NumPy broadcasting, as for Add.
func init() {
	register("Equal", 7, comparison(func(a, b float64) bool { return a == b }, func(a, b int64) bool { return a == b }))
}
