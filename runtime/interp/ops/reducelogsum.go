package ops

import "math"

func init() {
	register("ReduceLogSum", 1, newMappedSum(logMap, false))
	register("ReduceLogSum", 18, newMappedSum(logMap, true)) // axes became an optional input
}

// logMap makes a mappedSum (reducesumsquare.go) the log of the sum.
var logMap = sumMap{
	g:  func(s float32) float32 { return float32(math.Log(float64(s))) },
	dg: func(s float32) float32 { return 1 / s },
}
