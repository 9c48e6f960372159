package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Mul: da = dy·b, db = dy·a, summed to the operands' shapes; the tail of a
// SiLU or GELU chain differentiates the chain whole, and x·HardSigmoid(x)
// as one gate (gate.go).
func init() {
	register("Mul", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		if b.gelu(n, dy[0]) {
			return nil, nil
		}
		if g, ok := b.silu(n, dy[0]); ok {
			return g, nil
		}
		dx, xi, err := b.hardSwish(n, dy[0])
		if err != nil || dx != "" {
			out := make([]string, 2)
			out[xi] = dx
			return out, err
		}
		var ga, gb string
		if b.needs(n, 0) {
			ga = b.op("Mul", []string{dy[0], n.Inputs[1]})
		}
		if b.needs(n, 1) {
			gb = b.op("Mul", []string{dy[0], n.Inputs[0]})
		}
		return b.broadcastGrads(n, ga, gb)
	})
}
