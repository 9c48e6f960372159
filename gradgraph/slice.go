package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Slice (starts, ends, axes and steps as inputs, opset 10 on): the same
// Slice of x's element positions says where dy's elements go, whatever the
// steps and however the bounds were computed.
func init() {
	register("Slice", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		ins := append([]string{b.positions(n.Inputs[0])}, n.Inputs[1:]...)
		picked := b.op("Slice", ins)
		out := make([]string, len(n.Inputs))
		out[0] = b.scatterBack(n.Inputs[0], picked, dy[0], false)
		return out, nil
	})
}
