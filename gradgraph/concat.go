package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Concat: each input gets its slice of dy along the axis.
func init() {
	register("Concat", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		axis, err := n.Int("axis", 0)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(n.Inputs))
		var at int64
		for i, in := range n.Inputs {
			s, err := b.shape(in)
			if err != nil {
				return nil, err
			}
			ax := axis
			if ax < 0 {
				ax += int64(len(s))
			}
			if ax < 0 || int(ax) >= len(s) || s[ax] < 0 {
				return nil, unsupported("concatenation along axis %d of %v, which follows the batch", axis, s)
			}
			if b.needs(n, i) {
				out[i] = b.op("Slice", []string{dy[0], b.int64s(at), b.int64s(at + int64(s[ax])), b.int64s(ax)})
			}
			at += int64(s[ax])
		}
		return out, nil
	})
}
