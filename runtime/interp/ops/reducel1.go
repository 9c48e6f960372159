package ops

func init() {
	register("ReduceL1", 1, newMappedSum(absMap, false))
	register("ReduceL1", 18, newMappedSum(absMap, true)) // axes became an optional input
}

// absMap makes a mappedSum (reducesumsquare.go) the sum of |x|; the
// gradient at 0 is taken as 0.
var absMap = sumMap{
	f: func(x float32) float32 { return max(x, -x) },
	df: func(x float32) float32 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	},
}
