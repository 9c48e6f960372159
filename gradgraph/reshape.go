package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Reshape only rearranges: dx is dy reshaped to x's shape.
func init() { register("Reshape", reshapeBack) }

// reshapeBack is the rule of the ops that keep every element in order.
func reshapeBack(b *builder, n *onnx.Node, dy []string) ([]string, error) {
	out := make([]string, len(n.Inputs))
	out[0] = b.reshapeBatch(dy[0], b.shapes[n.Outputs[0]], n.Inputs[0])
	return out, nil
}
