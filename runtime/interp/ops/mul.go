package ops

func init() {
	register("Mul", 7, binary(binaryOp{
		f:    func(a, b float32) float32 { return a * b },
		fi:   func(a, b int64) int64 { return a * b },
		da:   func(a, b, y float32) float32 { return b },
		db:   func(a, b, y float32) float32 { return a },
		skip: [2]operands{opA | opY, opB | opY},
		kind: kindMul,
	}))
}
