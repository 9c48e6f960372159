package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// LogSoftmax (opset 13 on): dx = dy − exp(y)·Σ dy.
func init() {
	register("LogSoftmax", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		axis, err := n.Int("axis", -1)
		if err != nil {
			return nil, err
		}
		s := b.op("ReduceSum", []string{dy[0], b.int64s(axis)}, aInt("keepdims", 1))
		return []string{b.op("Sub", []string{dy[0], b.op("Mul", []string{b.op("Exp", []string{n.Outputs[0]}), s})})}, nil
	})
}
