package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Elu: dx = dy where x > 0, dy·(y + alpha) elsewhere.
func init() {
	register("Elu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 1)
		if err != nil {
			return nil, err
		}
		pos := b.op("Greater", []string{n.Inputs[0], b.scalar(0)})
		neg := b.op("Mul", []string{dy[0], b.op("Add", []string{n.Outputs[0], b.scalar(alpha)})})
		return []string{b.op("Where", []string{pos, dy[0], neg})}, nil
	})
}
