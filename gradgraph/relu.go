package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Relu: dx = dy where y > 0, the mask a step of y (see step).
func init() {
	register("Relu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return []string{b.op("Mul", []string{dy[0], b.step(n.Outputs[0], 0, true)})}, nil
	})
}
