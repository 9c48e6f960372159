package ops

// PRelu broadcasts its slope to X (one slope per channel is the common
// form, shaped C×1×1). Opset 6 allowed only a slope of X's shape or a single
// value, both of which broadcasting covers, so one version serves both.
func init() {
	register("PRelu", 6, binary(binaryOp{
		f: func(x, slope float32) float32 {
			if x < 0 {
				return x * slope
			}
			return x
		},
		da: func(x, slope, y float32) float32 {
			if x < 0 {
				return slope
			}
			return 1
		},
		db: func(x, slope, y float32) float32 {
			if x < 0 {
				return x
			}
			return 0
		},
	}))
}
