package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Relu: dx = dy where y > 0.
func init() {
	register("Relu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return []string{b.where(b.op("Greater", []string{n.Outputs[0], b.scalar(0)}), dy[0])}, nil
	})
}
