package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Div, y = a/b: da = dy/b, db = −dy·a/b/b, summed to the operands' shapes.
// db reads a rather than y: in a LayerNorm's (x−μ)/σ the backward of the
// Pow that squares x−μ reads a anyway, so only one of the two is kept; a
// whole LayerNorm chain, as PyTorch exports it, is differentiated at its
// Div in one (layernormchain.go).
func init() {
	register("Div", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		if x, dx, ok := b.layerNormChain(n, dy[0]); ok {
			b.grads[x] = append(b.grads[x], dx)
			return nil, nil
		}
		var ga, gb string
		if b.needs(n, 0) {
			ga = b.op("Div", []string{dy[0], n.Inputs[1]})
		}
		if b.needs(n, 1) {
			gb = b.op("Neg", []string{b.op("Div", []string{b.op("Div", []string{b.op("Mul", []string{dy[0], n.Inputs[0]}), n.Inputs[1]}), n.Inputs[1]})})
		}
		return b.broadcastGrads(n, ga, gb)
	})
}
