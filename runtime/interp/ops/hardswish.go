package ops

// HardSwish is x·HardSigmoid(x) with alpha 1/6 and beta 1/2, as in
// MobileNetV3. Its derivative reads x alone, so a gradient pass keeps x,
// not y.
func init() {
	register("HardSwish", 14, func(*Node) (Op, error) { return hardSwish, nil })
}

var hardSwish = unaryOp{
	f: func(x float32) float32 { return x * max(0, min(1, x/6+0.5)) },
	df: func(x, y float32) float32 {
		switch {
		case x <= -3:
			return 0
		case x >= 3:
			return 1
		}
		return x/3 + 0.5
	},
	skip: opY,
}
