package ops

func init() {
	register("Abs", 6, signed(signedUnary{
		unaryOp{
			f: func(x float32) float32 { return max(x, -x) },
			df: func(x, y float32) float32 {
				if x < 0 {
					return -1
				}
				return 1
			},
		},
		func(x int64) int64 { return max(x, -x) },
	}))
}
