package ops

func init() {
	register("Neg", 6, signed(signedUnary{
		unaryOp{f: func(x float32) float32 { return -x }, df: func(x, y float32) float32 { return -1 }},
		func(x int64) int64 { return -x },
	}))
}
