package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Sub: da = dy, db = −dy, summed to the operands' shapes.
func init() {
	register("Sub", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		gb := ""
		if b.needs(n, 1) {
			gb = b.op("Neg", []string{dy[0]})
		}
		return b.broadcastGrads(n, dy[0], gb)
	})
}
