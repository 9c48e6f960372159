package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// LeakyRelu: dx = dy where x > 0, alpha·dy elsewhere.
func init() {
	register("LeakyRelu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 0.01)
		if err != nil {
			return nil, err
		}
		pos := b.op("Greater", []string{n.Inputs[0], b.scalar(0)})
		return []string{b.op("Where", []string{pos, dy[0], b.op("Mul", []string{dy[0], b.scalar(alpha)})})}, nil
	})
}
