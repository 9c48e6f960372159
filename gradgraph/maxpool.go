package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// MaxPool: the forward node also writes its Indices output (positions in
// the flattened input), through which dy is scattered back, added where
// overlapping windows picked one element twice.
func init() {
	register("MaxPool", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		if order, err := n.Int("storage_order", 0); err != nil || order != 0 {
			return nil, unsupported("storage_order=%d", order)
		}
		if len(dy) > 1 && dy[1] != "" {
			return nil, unsupported("a gradient reaching the Indices output")
		}
		fwd := b.forward[n]
		indices := ""
		if len(fwd.Output) > 1 && fwd.Output[1] != "" {
			indices = fwd.Output[1]
		} else {
			indices = b.fresh("maxpool_indices")
			fwd.Output = append(fwd.Output[:1], indices)
		}
		return []string{b.scatterBack(n.Inputs[0], indices, dy[0], true)}, nil
	})
}
