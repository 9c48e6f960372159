package ops

func init() {
	register("ReduceL2", 1, newReduction(reduceL2, false))
	register("ReduceL2", 18, newReduction(reduceL2, true)) // axes became an optional input
}
