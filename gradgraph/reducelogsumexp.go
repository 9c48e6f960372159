package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// ReduceLogSumExp, y = log Σ exp(x): dx = dy·exp(x − y), dy and y spread
// back over the reduced axes.
func init() {
	register("ReduceLogSumExp", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		out, err := b.reduceBack(n, dy[0], false)
		if err != nil {
			return nil, err
		}
		spread, err := b.reduceBack(n, n.Outputs[0], false)
		if err != nil {
			return nil, err
		}
		out[0] = b.op("Mul", []string{out[0], b.op("Exp", []string{b.op("Sub", []string{n.Inputs[0], spread[0]})})})
		return out, nil
	})
}
