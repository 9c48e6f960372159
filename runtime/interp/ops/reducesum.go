package ops

func init() {
	register("ReduceSum", 1, newReduction(reduceSum, false))
	register("ReduceSum", 13, newReduction(reduceSum, true)) // axes became an optional input
}
