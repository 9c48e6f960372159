package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Where(c, x, y): dx = dy where c, dy' = dy elsewhere, each summed to its
// operand's shape; the condition gets none.
func init() {
	register("Where", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		out := make([]string, 3)
		for i, take := range []bool{true, false} {
			if !b.needs(n, i+1) {
				continue
			}
			c := n.Inputs[0]
			if !take {
				c = b.op("Not", []string{c})
			}
			g, err := b.sumTo(b.where(c, dy[0]), n.Outputs[0], n.Inputs[i+1])
			if err != nil {
				return nil, err
			}
			out[i+1] = g
		}
		return out, nil
	})
}
