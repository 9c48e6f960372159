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
		y := n.Outputs[0]
		inside := b.op("And", []string{b.op("Greater", []string{y, b.scalar(0)}), b.op("Less", []string{y, b.scalar(1)})})
		return []string{b.where(inside, b.op("Mul", []string{dy[0], b.scalar(alpha)}))}, nil
	})
}
