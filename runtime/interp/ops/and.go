package ops

// And takes bools, which the interpreter holds as 0/1 integers.
func init() {
	register("And", 7, comparison(func(a, b float64) bool { return a != 0 && b != 0 }, func(a, b int64) bool { return a != 0 && b != 0 }))
}
