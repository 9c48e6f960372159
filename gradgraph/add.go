package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Add: each operand gets dy summed over the axes it was broadcast along.
func init() {
	register("Add", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.broadcastGrads(n, dy[0], dy[0])
	})
}

// broadcastGrads sums ga and gb, the gradients of a binary op's operands at
// the output's shape, to the operands' shapes, skipping those not needed.
func (b *builder) broadcastGrads(n *onnx.Node, ga, gb string) ([]string, error) {
	out := make([]string, 2)
	for i, g := range []string{ga, gb} {
		if !b.needs(n, i) {
			continue
		}
		s, err := b.sumTo(g, n.Outputs[0], n.Inputs[i])
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
