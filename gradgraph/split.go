package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Split: dx is the pieces' gradients joined along the axis, zeros for the
// pieces the loss does not reach.
func init() {
	register("Split", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		axis, err := n.Int("axis", 0)
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(n.Outputs))
		for j, o := range n.Outputs {
			if o == "" {
				return nil, unsupported("an omitted Split output")
			}
			parts[j] = dy[j]
			if parts[j] == "" {
				parts[j] = b.op("ConstantOfShape", []string{b.shapeTensor(o)})
			}
		}
		out := make([]string, len(n.Inputs))
		out[0] = b.op("Concat", parts, aInt("axis", axis))
		return out, nil
	})
}
