package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Celu: dx = dy where x > 0, dy·exp(x/alpha) elsewhere.
func init() {
	register("Celu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 1)
		if err != nil {
			return nil, err
		}
		x := n.Inputs[0]
		pos := b.op("Greater", []string{x, b.scalar(0)})
		neg := b.op("Mul", []string{dy[0], b.op("Exp", []string{b.op("Div", []string{x, b.scalar(alpha)})})})
		return []string{b.op("Where", []string{pos, dy[0], neg})}, nil
	})
}
