package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Pad in constant mode (pads as an input, opset 11 on): dx is dy padded by
// the negated pads, which crops what padding added and pads with zeros what
// negative pads cropped.
func init() {
	register("Pad", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		mode, err := n.Str("mode", "constant")
		if err != nil {
			return nil, err
		}
		if mode != "constant" {
			return nil, unsupported("Pad mode %q (only constant)", mode)
		}
		if len(n.Inputs) > 3 && n.Inputs[3] != "" {
			return nil, unsupported("Pad with an axes input")
		}
		out := make([]string, len(n.Inputs))
		out[0] = b.op("Pad", []string{dy[0], b.op("Neg", []string{n.Inputs[1]})})
		return out, nil
	})
}
