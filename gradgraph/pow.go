package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Pow, y = aᵇ: da = dy·b·a^(b−1); db = dy·y·ln a, taken as 0 where a ≤ 0
// as the interpreter does. Both are summed to their operand's shape.
func init() {
	register("Pow", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		a, e, y := n.Inputs[0], n.Inputs[1], n.Outputs[0]
		out := make([]string, 2)
		if b.needs(n, 0) {
			ef := b.op("CastLike", []string{e, a})
			d := b.op("Mul", []string{ef, b.op("Pow", []string{a, b.op("Sub", []string{ef, b.scalar(1)})})})
			g, err := b.sumTo(b.op("Mul", []string{dy[0], d}), y, a)
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
