package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Softmax (opset 13 on: along one axis): dx = y·(dy − Σ dy·y).
func init() {
	register("Softmax", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		axis, err := n.Int("axis", -1)
		if err != nil {
			return nil, err
		}
		y := n.Outputs[0]
		s := b.op("ReduceSum", []string{b.op("Mul", []string{dy[0], y}), b.int64s(axis)}, aInt("keepdims", 1))
		return []string{b.op("Mul", []string{y, b.op("Sub", []string{dy[0], s})})}, nil
	})
}
