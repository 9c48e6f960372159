package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// GlobalAveragePool: dx is dy spread over the spatial axes, divided by
// their size.
func init() {
	register("GlobalAveragePool", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		xs, err := b.shape(n.Inputs[0])
		if err != nil {
			return nil, err
		}
		count := 1
		for _, d := range xs[2:] {
			if d < 0 {
				return nil, unsupported("dynamic spatial shape %v", xs)
			}
			count *= d
		}
		g := b.op("Div", []string{dy[0], b.scalar(float32(count))})
		return []string{b.expandBatch(g, n.Inputs[0])}, nil
	})
}
