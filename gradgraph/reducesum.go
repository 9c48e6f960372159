package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// ReduceSum: dx is dy spread back over the reduced axes.
func init() {
	register("ReduceSum", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.reduceBack(n, dy[0], false)
	})
}
