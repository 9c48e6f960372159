package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// MaxPool: the forward node also writes its Indices output (positions in
// the flattened input), through which dy is scattered back, added where
// overlapping windows picked one element twice. The Indices output takes
// ONNX Runtime off its blocked MaxPool (ResNet-50's stem: about 55 ms and
// 34 ms of ScatterElements at batch 16), but a backward pass without it
// that still sends the gradient to the first maximum of each window, as
// the interpreter and PyTorch do, needs a mask per window position, each
// ruling out the earlier ones, and an interleave of the result to the
// input's resolution, which alone costs there about what the two nodes do.
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
