package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// PRelu, y = x < 0 ? slope·x : x: dx = slope·dy where x < 0, dy elsewhere;
// dslope = dy·x where x < 0, summed to the slope's shape.
func init() {
	register("PRelu", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		x, slope, g := n.Inputs[0], n.Inputs[1], dy[0]
		neg := b.op("Less", []string{x, b.scalar(0)})
		out := make([]string, 2)
		if b.needs(n, 0) {
			out[0] = b.op("Where", []string{neg, b.op("Mul", []string{g, slope}), g})
		}
		if b.needs(n, 1) {
			s, err := b.sumTo(b.where(neg, b.op("Mul", []string{g, x})), n.Outputs[0], slope)
			if err != nil {
				return nil, err
			}
			out[1] = s
		}
		return out, nil
	})
}
