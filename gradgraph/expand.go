package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Expand: dx = dy summed over the axes x was broadcast along.
func init() {
	register("Expand", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		g, err := b.sumTo(dy[0], n.Outputs[0], n.Inputs[0])
		return []string{g, ""}, err
	})
}
