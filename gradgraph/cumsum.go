package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// CumSum: dx is the running sum of dy in the other direction, exclusive
// as the forward was.
func init() {
	register("CumSum", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		exclusive, err := n.Int("exclusive", 0)
		if err != nil {
			return nil, err
		}
		reverse, err := n.Int("reverse", 0)
		if err != nil {
			return nil, err
		}
		dx := b.op("CumSum", []string{dy[0], n.Inputs[1]}, aInt("exclusive", exclusive), aInt("reverse", 1-reverse))
		return []string{dx, ""}, nil
	})
}
