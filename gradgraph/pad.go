package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Pad (pads as an input, opset 11 on). In constant mode dx is dy padded by
// the negated pads, which crops what padding added and pads with zeros what
// negative pads cropped. In reflect and edge modes the same Pad of x's
// element positions says which element each of dy's came from, and dy is
// added back there.
func init() {
	register("Pad", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		mode, err := n.Str("mode", "constant")
		if err != nil {
			return nil, err
		}
		if len(n.Inputs) > 3 && n.Inputs[3] != "" {
			return nil, unsupported("Pad with an axes input")
		}
		out := make([]string, len(n.Inputs))
		switch mode {
		case "constant":
			out[0] = b.op("Pad", []string{dy[0], b.op("Neg", []string{n.Inputs[1]})})
		case "reflect", "edge":
			picked := b.op("Pad", []string{b.positions(n.Inputs[0]), n.Inputs[1]}, aStr("mode", mode))
			out[0] = b.scatterBack(n.Inputs[0], picked, dy[0], true)
		default:
			return nil, unsupported("Pad mode %q", mode)
		}
		return out, nil
	})
}
