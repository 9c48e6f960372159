package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Selu: dx = gamma·dy where x > 0, dy·(y + gamma·alpha) elsewhere.
func init() {
	register("Selu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 1.67326319217681884765625)
		if err != nil {
			return nil, err
		}
		gamma, err := n.Float("gamma", 1.05070102214813232421875)
		if err != nil {
			return nil, err
		}
		pos := b.op("Greater", []string{n.Inputs[0], b.scalar(0)})
		neg := b.op("Mul", []string{dy[0], b.op("Add", []string{n.Outputs[0], b.scalar(gamma * alpha)})})
		return []string{b.op("Where", []string{pos, b.op("Mul", []string{dy[0], b.scalar(gamma)}), neg})}, nil
	})
}
