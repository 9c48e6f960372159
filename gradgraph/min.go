package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Min: dy goes to the first operand that equals the minimum, summed to that
// operand's shape.
func init() {
	register("Min", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.pickGrads(n, dy[0])
	})
}
