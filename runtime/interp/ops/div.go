package ops

func init() {
	register("Div", 7, binary(binaryOp{
		f: func(a, b float32) float32 { return a / b },
		// Integer division truncates toward zero, as in C and ONNX Runtime;
		// dividing by zero gives 0 instead of a crash.
		fi: func(a, b int64) int64 {
			if b == 0 {
				return 0
			}
			return a / b
		},
		da: func(a, b, y float32) float32 { return 1 / b },
		// -y/b with y recomputed as the forward pass rounded it (a/b is
		// one correctly rounded division), so the bits do not change but
		// a gradient pass keeps a, not y: LayerNorm's (x-mean)/σ then
		// keeps nothing its Pow(x-mean, 2) does not keep already.
		db:   func(a, b, y float32) float32 { return -(a / b) / b },
		skip: [2]operands{opA | opY, opY},
	}))
}
