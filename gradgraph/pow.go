package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Pow, y = aᵇ: da = dy·b·a^(b−1); db = dy·y·ln a, taken as 0 where a ≤ 0
// as the interpreter does. Both are summed to their operand's shape. A
// constant exponent (a square's 2, above all) gets its derivative as
// multiplications where it can: ONNX Runtime's Pow with any other exponent
// than 2 or 3 takes several times as long as a Mul.
func init() {
	register("Pow", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		a, e, y := n.Inputs[0], n.Inputs[1], n.Outputs[0]
		out := make([]string, 2)
		if b.needs(n, 0) {
			g, err := b.sumTo(b.powBack(a, e, dy[0]), y, a)
			if err != nil {
				return nil, err
			}
			out[0] = g
		}
		if b.needs(n, 1) {
			pos := b.op("Greater", []string{a, b.scalar(0)})
			ln := b.op("Where", []string{pos, b.op("Log", []string{b.op("Where", []string{pos, a, b.scalar(1)})}), b.scalar(0)})
			g, err := b.sumTo(b.op("Mul", []string{dy[0], b.op("Mul", []string{y, ln})}), y, e)
			if err != nil {
				return nil, err
			}
			out[1] = g
		}
		return out, nil
	})
}

// powBack returns dy·b·a^(b−1), the gradient of aᵇ with respect to a at
// the output's shape.
func (b *builder) powBack(a, e, dy string) string {
	if k, ok := b.scalarConst(e); ok {
		switch k {
		case 1:
			return dy
		case 2:
			return b.op("Mul", []string{dy, b.op("Mul", []string{a, b.scalar(2)})})
		case 3:
			return b.op("Mul", []string{dy, b.op("Mul", []string{b.op("Mul", []string{a, a}), b.scalar(3)})})
		}
		return b.op("Mul", []string{dy, b.op("Mul", []string{b.op("Pow", []string{a, b.scalar(k - 1)}), b.scalar(k)})})
	}
	ef := b.op("CastLike", []string{e, a})
	return b.op("Mul", []string{dy, b.op("Mul", []string{ef, b.op("Pow", []string{a, b.op("Sub", []string{ef, b.scalar(1)})})})})
}
