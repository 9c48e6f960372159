package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// HardSwish, y = x·max(0, min(1, x/6 + 1/2)): dx = 0 for x ≤ −3, dy for
// x ≥ 3, dy·(x/3 + 1/2) between.
func init() {
	register("HardSwish", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		x := n.Inputs[0]
		slope := b.op("Add", []string{b.op("Mul", []string{x, b.scalar(1.0 / 3)}), b.scalar(0.5)})
		slope = b.op("Where", []string{b.op("Less", []string{x, b.scalar(3)}), slope, b.scalar(1)})
		slope = b.op("Where", []string{b.op("Greater", []string{x, b.scalar(-3)}), slope, b.scalar(0)})
		return []string{b.op("Mul", []string{dy[0], slope})}, nil
	})
}
