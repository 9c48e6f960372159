package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Max: dy goes to the first operand that equals the maximum (the
// interpreter's choice on ties), summed to that operand's shape.
func init() {
	register("Max", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.pickGrads(n, dy[0])
	})
}

// pickGrads serves Max and Min, whose output is, element by element, one
// operand's value: operand i gets dy where it equals y and no operand
// before it does.
func (b *builder) pickGrads(n *onnx.Node, g string) ([]string, error) {
	out := make([]string, len(n.Inputs))
	y, taken := n.Outputs[0], ""
	for i, in := range n.Inputs {
		win := b.op("Equal", []string{in, y})
		if taken != "" {
			win = b.op("And", []string{win, b.op("Not", []string{taken})})
		}
		if b.needs(n, i) {
			s, err := b.sumTo(b.where(win, g), y, in)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		if taken == "" {
			taken = win
		} else {
			taken = b.op("Or", []string{taken, win})
		}
	}
	return out, nil
}
