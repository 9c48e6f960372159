package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// HardSigmoid, y = max(0, min(1, alpha·x + beta)): dx = alpha·dy where
// 0 < alpha·x + beta < 1.
func init() {
	register("HardSigmoid", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		alpha, err := n.Float("alpha", 0.2)
		if err != nil {
			return nil, err
		}
		beta, err := n.Float("beta", 0.5)
		if err != nil {
			return nil, err
		}
		v := b.op("Add", []string{b.op("Mul", []string{n.Inputs[0], b.scalar(alpha)}), b.scalar(beta)})
		inside := b.op("And", []string{b.op("Greater", []string{v, b.scalar(0)}), b.op("Less", []string{v, b.scalar(1)})})
		return []string{b.where(inside, b.op("Mul", []string{dy[0], b.scalar(alpha)}))}, nil
	})
}
