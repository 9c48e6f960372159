package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Sum: every operand gets dy summed to its shape.
func init() {
	register("Sum", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.variadicGrads(n, dy[0])
	})
}

// variadicGrads sums g to the shape of each needed input of n.
func (b *builder) variadicGrads(n *onnx.Node, g string) ([]string, error) {
	out := make([]string, len(n.Inputs))
	for i, in := range n.Inputs {
		if !b.needs(n, i) {
			continue
		}
		s, err := b.sumTo(g, n.Outputs[0], in)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
