package ops

// Sign takes integers too (shape arithmetic); its gradient is 0, as
// Floor's (floor.go says why).
func init() {
	register("Sign", 9, signed(signedUnary{
		unaryOp{
			f: func(x float32) float32 {
				switch {
				case x > 0:
					return 1
				case x < 0:
					return -1
				}
				return x // 0, -0 and NaN stay as they are
			},
			df: func(x, y float32) float32 { return 0 },
		},
		func(x int64) int64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		},
	}))
}
