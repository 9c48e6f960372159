package ops

func init() {
	// Opset 7 introduced NumPy broadcasting; earlier versions used the
	// broadcast/axis attributes, which current exporters no longer write.
	register("Add", 7, binary(binaryOp{
		f:    func(a, b float32) float32 { return a + b },
		fi:   func(a, b int64) int64 { return a + b },
		da:   func(a, b, y float32) float32 { return 1 },
		db:   func(a, b, y float32) float32 { return 1 },
		skip: [2]operands{opAll, opAll},
		kind: kindAdd,
	}))
}
