package ops

func init() {
	register("ReduceMean", 1, newReduction(reduceMean, false))
	register("ReduceMean", 18, newReduction(reduceMean, true)) // axes became an optional input
}
