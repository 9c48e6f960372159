package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// HardSigmoid, y = max(0, min(1, alpha·x + beta)): dx = alpha·dy where
// 0 < alpha·x + beta < 1, which is where 0 < y < 1: two passes fewer than
// computing alpha·x + beta again.
func init() {
	register("HardSigmoid", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 0.2)
		if err != nil {
			return nil, err
		}
		inside := b.between(n.Outputs[0], 0, 1)
		return []string{b.op("Mul", []string{b.op("Mul", []string{dy[0], b.scalar(alpha)}), inside})}, nil
	})
}
