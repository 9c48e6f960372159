package gradgraph

import (
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
)

// LayerNorm as PyTorch exports it below opset 17: x̂ = (x − μ)/σ with
// μ = ReduceMean(x), σ = Sqrt(ReduceMean(Pow(x − μ, 2)) + ε), both over the
// same axes. Node by node its backward reads x − μ twice (Div's and Pow's
// rules), raises it to the power 1 with ONNX Runtime's slow Pow, and writes
// a dozen tensors of x's size. Matched at the Div, the chain gets the
// compact backward dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/σ, which reads x̂,
// the Div's own output, and σ, one value per normalised row.

// layerNormChain matches the Div n as the tail of such a chain and returns
// its x and dx, the gradient of x from dy, the gradient of x̂; ok is false
// where n is not one. Every value inside the chain must be private to it
// (x − μ read by Pow and Div alone) and ε need no gradient, since the
// chain's own rules, which would give theirs, do not run.
func (b *builder) layerNormChain(n *onnx.Node, dy string) (x, dx string, ok bool) {
	if len(n.Inputs) != 2 || len(n.Outputs) != 1 {
		return "", "", false
	}
	xc, sd := n.Inputs[0], n.Inputs[1]
	// A one-element ε or exponent of higher rank broadcasts x̂ to more
	// axes than x has: the compact rule's axes would be x's, wrongly.
	if ys := b.shapes[n.Outputs[0]]; len(ys) == 0 || !slices.Equal(ys, b.shapes[xc]) {
		return "", "", false
	}
	sub := b.producer(xc)
	if sub == nil || sub.OpType != "Sub" || len(sub.Inputs) != 2 || b.outputs[xc] {
		return "", "", false
	}
	x = sub.Inputs[0]
	if !slices.Equal(b.shapes[x], b.shapes[xc]) {
		return "", "", false
	}
	mu := b.fromOp(sub.Inputs[1], "ReduceMean")
	if mu == nil || mu.Inputs[0] != x || !b.need[x] {
		return "", "", false
	}
	axes, ok := b.meanAxes(mu)
	if !ok {
		return "", "", false
	}
	sq := b.fromOp(sd, "Sqrt")
	if sq == nil {
		return "", "", false
	}
	add := b.fromOp(sq.Inputs[0], "Add")
	if add == nil || len(add.Inputs) != 2 {
		return "", "", false
	}
	for _, v := range add.Inputs {
		eps := other(add, v)
		if _, isConst := b.scalarConst(eps); !isConst {
			continue
		}
		if varAxes, ok := b.meanAxes(b.fromOp(v, "ReduceMean")); ok && slices.Equal(varAxes, axes) && b.squares(b.producer(v).Inputs[0], xc) {
			count := 1
			for _, a := range axes {
				count *= b.shapes[x][a]
			}
			return x, b.normCompact(n.Outputs[0], dy, axes, count, "Div", sd), true
		}
	}
	return "", "", false
}

// squares reports whether p is a private Pow(xc, 2) or Mul(xc, xc) and
// that node and the Div are xc's only readers.
func (b *builder) squares(p, xc string) bool {
	if pw := b.fromOp(p, "Pow"); pw != nil && len(pw.Inputs) == 2 && pw.Inputs[0] == xc {
		e, ok := b.scalarConst(pw.Inputs[1])
		return ok && e == 2 && b.reads[xc] == 2
	}
	if m := b.fromOp(p, "Mul"); m != nil && len(m.Inputs) == 2 {
		return m.Inputs[0] == xc && m.Inputs[1] == xc && b.reads[xc] == 3
	}
	return false
}

// meanAxes returns the axes of a ReduceMean that keeps its dimensions
// (reduceAxes'), sorted; ok is false for any other node.
func (b *builder) meanAxes(n *onnx.Node) ([]int64, bool) {
	if n == nil {
		return nil, false
	}
	axes, keep, noop, err := b.reduceAxes(n)
	if err != nil || !keep || noop {
		return nil, false
	}
	slices.Sort(axes)
	return axes, true
}

// normCompact returns dx = (g − mean(g) − x̂·mean(g·x̂)) scaled by 1/σ,
// as op ("Div" or "Mul") with by (σ or 1/σ), over axes of count elements:
// four passes over x's size besides the two reductions. The means are sums
// scaled afterwards, on one value per row: ReduceMean takes its axes as an
// input only from opset 18.
func (b *builder) normCompact(xhat, g string, axes []int64, count int, op, by string) string {
	ax := b.int64s(axes...)
	inv := b.scalar(1 / float32(count))
	mean := func(v string) string {
		return b.op("Mul", []string{b.op("ReduceSum", []string{v, ax}, aInt("keepdims", 1)), inv})
	}
	m1 := mean(g)
	m2 := mean(b.op("Mul", []string{g, xhat}))
	centred := b.op("Sub", []string{b.op("Sub", []string{g, m1}), b.op("Mul", []string{xhat, m2})})
	return b.op(op, []string{centred, by})
}
