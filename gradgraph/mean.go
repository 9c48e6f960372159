package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Mean of k operands: every operand gets dy/k summed to its shape.
func init() {
	register("Mean", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.variadicGrads(n, b.op("Div", []string{dy[0], b.scalar(float32(len(n.Inputs)))}))
	})
}
