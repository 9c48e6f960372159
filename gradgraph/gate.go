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
			d := b.op("Mul", []string{n.Outputs[0], b.complement(x, s)})
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

// complement returns 1 − s for s = Sigmoid(x). On an image tensor whose
// channels fill ONNX Runtime's NCHWc blocks it is Sigmoid(−x), the negation
// a 1×1 depthwise Conv: ONNX Runtime then keeps x, s, the gate's product
// and its gradient in its blocked layout, where a Sub would have each
// reordered to NCHW and back (four passes over the tensor).
func (b *builder) complement(x, s string) string {
	xs, err := b.shape(x)
	if err != nil || len(xs) != 4 || xs[1] <= 0 || xs[1]%nchwcBlock != 0 {
		return b.op("Sub", []string{b.scalar(1), s})
	}
	c := xs[1]
	neg := make([]float32, c)
	for i := range neg {
		neg[i] = -1
	}
	nx := b.op("Conv", []string{x, b.floats([]int64{int64(c), 1, 1, 1}, neg)}, aInt("group", int64(c)))
	return b.op("Sigmoid", []string{nx})
}

// nchwcBlock is the channel block of ONNX Runtime's NCHWc layout with
// AVX-512 (8 with AVX2): its layout pass converts Convs whose channels are
// multiples of the block, and the element-wise nodes between them.
const nchwcBlock = 16

// producer returns the forward node whose first output is name, or nil.
func (b *builder) producer(name string) *onnx.Node {
	for _, n := range b.g.Nodes {
		if len(n.Outputs) > 0 && n.Outputs[0] == name {
			return n
		}
	}
	return nil
}
