package ops

func init() {
	register("ReduceMin", 1, newReduction(reduceMin, false))
	register("ReduceMin", 18, newReduction(reduceMin, true)) // axes became an optional input
}
