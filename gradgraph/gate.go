package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// gate returns the input gradient of y = x·f(x) when node n (a Mul) is such
// a self-gating, with f Sigmoid (SiLU, Swish) or HardSigmoid (HardSwish as
// PyTorch exports it below opset 14), and "" otherwise. As one derivative,
// dy·(f + x·f′), it costs about half the whole-tensor passes of the two
// rules chained (Mul's two products, f's derivative and their Sum). The
// gradient is all x's: f(x) gets none from n, so f's own rule runs only if
// f(x) feeds other nodes too.
func (b *builder) gate(n *onnx.Node, g string) (dx string, xi int, err error) {
	for xi = range 2 {
		x, f := n.Inputs[xi], b.producer(n.Inputs[1-xi])
		if f == nil || len(f.Inputs) == 0 || f.Inputs[0] != x || f.Domain != "" && f.Domain != "ai.onnx" {
			continue
		}
		s := f.Outputs[0]
		switch f.OpType {
		case "Sigmoid":
			// f + x·f(1 − f) = f + y·(1 − f).
			d := b.op("Mul", []string{n.Outputs[0], b.op("Sub", []string{b.scalar(1), s})})
			return b.op("Mul", []string{g, b.op("Add", []string{s, d})}), xi, nil
		case "HardSigmoid":
			alpha, err := f.Float("alpha", 0.2)
			if err != nil {
				return "", 0, err
			}
			// f′ = alpha where 0 < f < 1, which is where 0 < alpha·x + beta < 1.
			inside := b.op("And", []string{b.op("Greater", []string{s, b.scalar(0)}), b.op("Less", []string{s, b.scalar(1)})})
			d := b.where(inside, b.op("Mul", []string{x, b.scalar(alpha)}))
			return b.op("Mul", []string{g, b.op("Add", []string{s, d})}), xi, nil
		}
	}
	return "", 0, nil
}

// producer returns the forward node whose first output is name, or nil.
func (b *builder) producer(name string) *onnx.Node {
	for _, n := range b.g.Nodes {
		if len(n.Outputs) > 0 && n.Outputs[0] == name {
			return n
		}
	}
	return nil
}
