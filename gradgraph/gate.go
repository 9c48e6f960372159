package gradgraph

import (
	"math"

	"github.com/onnxguard/onnxguard/onnx"
)

// Gated activations written as several nodes (SiLU as x·Sigmoid(x), GELU
// as Div, Erf, Add, Mul, Mul) get one backward. SiLU's derivative is
// recomputed from x alone; node by node, the backward half would read x
// and the sigmoid. GELU's reads x/√2 and 1+erf(x/√2) from the forward and
// not x: recomputing erf costs more than the tensor it saves (ONNX
// Runtime's Erf is one of its slowest element-wise kernels, and its common
// subexpression elimination merged the recomputation with the forward's
// anyway, keeping all three alive).

// producer returns the forward node that writes name, nil for inputs and
// initializers.
func (b *builder) producer(name string) *onnx.Node {
	b.indexNodes()
	return b.producers[name]
}

// private reports whether name is read by exactly one forward node and is
// no graph output: a chain through it may be differentiated as a whole.
func (b *builder) private(name string) bool {
	b.indexNodes()
	return b.reads[name] == 1 && !b.outputs[name]
}

// indexNodes records, once, which forward node writes each value, how
// many times forward nodes read it and which values are graph outputs:
// the rules ask for every Mul, and a scan of the graph each time made
// building a transformer's graph quadratic in its nodes.
func (b *builder) indexNodes() {
	if b.producers != nil {
		return
	}
	b.producers, b.reads, b.outputs = map[string]*onnx.Node{}, map[string]int{}, map[string]bool{}
	for _, n := range b.g.Nodes {
		for _, o := range n.Outputs {
			if _, seen := b.producers[o]; !seen {
				b.producers[o] = n
			}
		}
		for _, in := range n.Inputs {
			b.reads[in]++
		}
	}
	for _, o := range b.g.Outputs {
		b.outputs[o.Name] = true
	}
}

// scalarConst returns the value of a one-element float constant. A weight
// whose gradient is wanted is no constant: training moves it, and a graph
// that fed it (Options.FeedWeights) would otherwise compute its forward
// pass with the new value and its backward with the old; the rules that
// read constants then keep their node-by-node form, as the interpreter,
// which never fuses across a weight, gives such a scalar its gradient.
func (b *builder) scalarConst(name string) (float32, bool) {
	if b.need[name] {
		return 0, false
	}
	v, ok := b.constFloats(name)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// fromOp returns the node of type op that writes name as a private value.
func (b *builder) fromOp(name, op string) *onnx.Node {
	if !b.private(name) {
		return nil
	}
	if p := b.producer(name); p != nil && p.OpType == op && len(p.Inputs) >= 1 {
		return p
	}
	return nil
}

// other returns the operand of a binary node that is not name, or "".
func other(n *onnx.Node, name string) string {
	if len(n.Inputs) != 2 {
		return ""
	}
	switch name {
	case n.Inputs[0]:
		return n.Inputs[1]
	case n.Inputs[1]:
		return n.Inputs[0]
	}
	return ""
}

// silu matches Mul(x, Sigmoid(x)) and returns dx = dy·s·(1 + x·(1 − s)),
// s = Sigmoid(x) recomputed, at x's position; ok is false otherwise.
func (b *builder) silu(n *onnx.Node, dy string) ([]string, bool) {
	for i, s := range n.Inputs {
		sig := b.fromOp(s, "Sigmoid")
		if sig == nil || len(n.Inputs) != 2 || sig.Inputs[0] != n.Inputs[1-i] || !b.needs(n, 1-i) {
			continue
		}
		x := n.Inputs[1-i]
		s := b.op("Sigmoid", []string{x})
		one := b.scalar(1)
		d := b.op("Mul", []string{s, b.op("Add", []string{one, b.op("Mul", []string{x, b.op("Sub", []string{one, s})})})})
		out := make([]string, 2)
		out[1-i] = b.op("Mul", []string{dy, d})
		return out, true
	}
	return nil, false
}

// gelu matches the tail Mul of k·x·(1 + erf(x/c)) written as Mul(Mul(x,
// 1+erf(x/c)), k) or Mul(Mul(x, k), 1+erf(x/c)), and adds dx = dy·(k·(1 +
// erf(x/c)) + k·x·erf'(x/c)/c) to x's gradient; ok is false otherwise.
func (b *builder) gelu(n *onnx.Node, dy string) bool {
	if len(n.Inputs) != 2 {
		return false
	}
	for _, in := range n.Inputs {
		k, ok := b.scalarConst(other(n, in))
		inner := b.fromOp(in, "Mul")
		if ok && inner != nil { // Mul(Mul(x, a), k)
			for _, a := range inner.Inputs {
				if x := other(inner, a); x != "" {
					if u := b.erfPlusOne(a, x); u != "" {
						b.geluBack(x, u, a, k, dy)
						return true
					}
				}
			}
		}
		if half := b.fromOp(in, "Mul"); half != nil { // Mul(Mul(x, k), a)
			a := other(n, in)
			for _, x := range half.Inputs {
				k, ok := b.scalarConst(other(half, x))
				if u := b.erfPlusOne(a, x); ok && u != "" {
					b.geluBack(x, u, a, k, dy)
					return true
				}
			}
		}
	}
	return false
}

// erfPlusOne returns u = Div(x, c) where a = Add(Erf(u), 1), each step
// private and c a nonzero constant; "" where a is not that.
func (b *builder) erfPlusOne(a, x string) string {
	add := b.fromOp(a, "Add")
	if add == nil || len(add.Inputs) != 2 {
		return ""
	}
	for _, e := range add.Inputs {
		one, ok := b.scalarConst(other(add, e))
		erf := b.fromOp(e, "Erf")
		if !ok || one != 1 || erf == nil {
			continue
		}
		div := b.fromOp(erf.Inputs[0], "Div")
		if div == nil || len(div.Inputs) != 2 || div.Inputs[0] != x {
			continue
		}
		if c, ok := b.scalarConst(div.Inputs[1]); ok && c != 0 {
			return div.Outputs[0]
		}
	}
	return ""
}

// geluBack adds the gradient of k·x·(1 + erf(u)), u = x/c, to x's: dx =
// dy·k·(a + 2/√π·u·e^(−u²)) with a = 1 + erf(u), the last term as
// u/e^(u²), which is 0, as it should be, where e^(u²) overflows. It reads
// the forward's u and a rather than recompute erf from x, ONNX Runtime's
// slowest element-wise kernel after Pow: the two tensors stay alive in
// place of x, whose last reader is then the forward's Mul.
func (b *builder) geluBack(x, u, a string, k float32, dy string) {
	if !b.need[x] {
		return
	}
	t := b.op("Div", []string{u, b.op("Exp", []string{b.op("Mul", []string{u, u})})})
	d := b.op("Add", []string{a, b.op("Mul", []string{t, b.scalar(float32(2 / math.SqrtPi))})})
	b.grads[x] = append(b.grads[x], b.op("Mul", []string{b.op("Mul", []string{dy, d}), b.scalar(k)}))
}

// hardSwish returns the input gradient of y = x·HardSigmoid(x), HardSwish
// as PyTorch exports it below opset 14, when node n (a Mul) is one, and ""
// otherwise: dy·(f + x·f′) as one derivative, about half the passes of the
// two rules chained. The gradient is all x's: f(x) gets none from n, so
// f's own rule runs only if f(x) feeds other nodes too.
func (b *builder) hardSwish(n *onnx.Node, g string) (dx string, xi int, err error) {
	for xi = range 2 {
		x, f := n.Inputs[xi], b.producer(n.Inputs[1-xi])
		if f == nil || f.OpType != "HardSigmoid" || len(f.Inputs) == 0 || f.Inputs[0] != x || f.Domain != "" && f.Domain != "ai.onnx" {
			continue
		}
		alpha, err := f.Float("alpha", 0.2)
		if err != nil {
			return "", 0, err
		}
		// f′ = alpha where 0 < f < 1, which is where 0 < alpha·x + beta < 1.
		s := f.Outputs[0]
		d := b.op("Mul", []string{b.op("Mul", []string{x, b.scalar(alpha)}), b.between(s, 0, 1)})
		return b.op("Mul", []string{g, b.op("Add", []string{s, d})}), xi, nil
	}
	return "", 0, nil
}
