package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// ThresholdedRelu, y = x where x > alpha, 0 elsewhere: dx = dy where x > alpha.
func init() {
	register("ThresholdedRelu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 1)
		if err != nil {
			return nil, err
		}
		return []string{b.where(b.op("Greater", []string{n.Inputs[0], b.scalar(alpha)}), dy[0])}, nil
	})
}
