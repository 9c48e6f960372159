package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// GatherElements: the same GatherElements of x's element positions says
// where each of dy's elements came from; dy is added back there.
func init() {
	register("GatherElements", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		axis, err := n.Int("axis", 0)
		if err != nil {
			return nil, err
		}
		picked := b.op("GatherElements", []string{b.positions(n.Inputs[0]), n.Inputs[1]}, aInt("axis", axis))
		return []string{b.scatterBack(n.Inputs[0], picked, dy[0], true), ""}, nil
	})
}
