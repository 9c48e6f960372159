package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// ReduceSumSquare: dx = 2·x·dy, dy spread back over the reduced axes.
func init() {
	register("ReduceSumSquare", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		out, err := b.reduceBack(n, dy[0], false)
		if err != nil {
			return nil, err
		}
		out[0] = b.op("Mul", []string{out[0], b.op("Mul", []string{n.Inputs[0], b.scalar(2)})})
		return out, nil
	})
}
