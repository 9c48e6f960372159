package ops

func init() {
	register("ReduceMax", 1, newReduction(reduceMax, false))
	register("ReduceMax", 18, newReduction(reduceMax, true)) // axes became an optional input
}
