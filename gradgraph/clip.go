package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Clip (min and max as inputs, opset 11 on): dx = dy where min ≤ x ≤ max;
// the bounds get the sums of dy where x fell below or above them. A bound
// above max wins, as in the interpreter.
//
// Where the bounds need no gradient (ReLU6 and its kin), min ≤ x ≤ max is
// tested as y = x: one comparison in place of five, the same set unless the
// bounds are inverted or x is NaN.
func init() {
	register("Clip", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		x, g := n.Inputs[0], dy[0]
		out := make([]string, len(n.Inputs))
		if !b.needs(n, 1) && !b.needs(n, 2) {
			out[0] = b.where(b.op("Equal", []string{n.Outputs[0], x}), g)
			return out, nil
		}
		lo, hi := "", ""
		if len(n.Inputs) > 1 && n.Inputs[1] != "" {
			lo = n.Inputs[1]
		}
		if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			hi = n.Inputs[2]
		}
		inside := ""
		var below, above string
		if lo != "" {
			below = b.op("Less", []string{x, lo})
			inside = b.op("Not", []string{below})
		}
		if hi != "" {
			v := x
			if lo != "" {
				v = b.op("Max", []string{x, lo})
			}
			above = b.op("Greater", []string{v, hi})
			notAbove := b.op("Not", []string{above})
			if inside == "" {
				inside = notAbove
			} else {
				inside = b.op("And", []string{inside, notAbove})
			}
		}
		if inside == "" {
			return []string{g}, nil
		}
		out[0] = b.where(inside, g)
		if b.needs(n, 1) {
			mask := below
			if above != "" {
				mask = b.op("And", []string{below, b.op("Not", []string{above})})
			}
			out[1] = b.op("ReduceSum", []string{b.where(mask, g)}, aInt("keepdims", 0))
		}
		if b.needs(n, 2) {
			out[2] = b.op("ReduceSum", []string{b.where(above, g)}, aInt("keepdims", 0))
		}
		return out, nil
	})
}
