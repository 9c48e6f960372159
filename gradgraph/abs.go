package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Abs: dx = −dy where x < 0, dy elsewhere (at 0 too, as in the interpreter).
func init() {
	register("Abs", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		neg := b.op("Less", []string{n.Inputs[0], b.scalar(0)})
		return []string{b.op("Where", []string{neg, b.op("Neg", []string{dy[0]}), dy[0]})}, nil
	})
}
