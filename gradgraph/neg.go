package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Neg: dx = −dy.
func init() {
	register("Neg", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return []string{b.op("Neg", []string{dy[0]})}, nil
	})
}
