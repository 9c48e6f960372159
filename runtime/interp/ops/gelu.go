package ops

import (
	"fmt"
	"math"
	"slices"
)

// GELU, y = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), is an operator from opset 20
// on. Before, exporters write it as five nodes: Div by √2, Erf, Add 1, Mul
// by x and Mul by 0.5 (PyTorch; ONNX's own function body multiplies x by
// 0.5 first). Apart, a gradient pass keeps x and 1+erf(x/√2), two tensors
// of the MLP's width per block (Div+Erf joined keeps x alone; the Mul by
// x keeps both its operands); the patterns below make the five one gated
// activation that keeps dy/dx alone, as Sigmoid+Mul does for SiLU. The
// constants must come from Constant nodes: an exporter that stores them as
// initializers (which training may update) keeps its five nodes.
func init() {
	register("Gelu", 20, newGelu)
	half := Const(func(v float32) bool { return v == 0.5 })
	one := Const(func(v float32) bool { return v == 1 })
	root2 := Const(func(v float32) bool { return math.Abs(float64(v)-math.Sqrt2) <= 0x1p-24 }) // √2 rounded to float32
	erfOf := []Step{
		{Type: "Div", In: []Operand{X, root2}},
		{Type: "Erf", In: []Operand{Out(0)}},
		{Type: "Add", In: []Operand{Out(1), one}, Commutes: true},
	}
	registerPattern(Pattern{Name: "Gelu", Op: geluPattern(false), Steps: slices.Concat(erfOf, []Step{
		{Type: "Mul", In: []Operand{X, Out(2)}, Commutes: true},
		{Type: "Mul", In: []Operand{Out(3), half}, Commutes: true}})})
	registerPattern(Pattern{Name: "Gelu", Op: geluPattern(true), Steps: slices.Concat(erfOf, []Step{
		{Type: "Mul", In: []Operand{X, half}, Commutes: true},
		{Type: "Mul", In: []Operand{Out(3), Out(2)}, Commutes: true}})})
}

// geluPattern returns the patterns' Op: it takes the constants in the
// patterns' order, the divisor, 1 and 0.5, and builds the op with the
// divisor the model holds, so that the forward pass gives the bits of the
// five nodes. halfFirst is for the form that multiplies x by 0.5 before
// the Mul by 1+erf: (x·0.5)·a rounds, and overflows, where (x·a)·0.5 does
// not (x near the largest float32).
func geluPattern(halfFirst bool) func([]float32) (Op, bool) {
	return func(consts []float32) (Op, bool) {
		if len(consts) != 3 {
			return nil, false
		}
		return scalarGate(geluErf(consts[0], halfFirst)), true
	}
}

func newGelu(n *Node) (Op, error) {
	approx, err := n.Str("approximate", "none")
	if err != nil {
		return nil, err
	}
	switch approx {
	case "none":
		return scalarGate(geluErf(math.Sqrt2, false)), nil
	case "tanh":
		return scalarGate(geluTanh), nil
	}
	return nil, fmt.Errorf("Gelu: approximate %q is neither \"none\" nor \"tanh\"", approx)
}

// geluErf returns y = 0.5·x·(1 + erf(x/c)) with c ≈ √2, rounded step by
// step as the five nodes round it, and dy/dx = 0.5·(1 + erf(x/c)) +
// 0.5·x·erf'(x/c)/c, whose first term the chain's Mul by x gives and the
// second its Erf's derivative. halfFirst multiplies as the form that
// halves x first does, (x·0.5)·a, and otherwise as (x·a)·0.5.
func geluErf(c float32, halfFirst bool) func(x float32) (y, d float32) {
	return func(x float32) (y, d float32) {
		u := x / c
		a := float32(math.Erf(float64(u))) + 1
		if halfFirst {
			y = x * 0.5 * a
		} else {
			y = x * a * 0.5
		}
		de := 2 / math.SqrtPi * math.Exp(-float64(u)*float64(u))
		return y, float32(0.5*float64(a) + 0.5*float64(x)*de/float64(c))
	}
}

// geluTanh is approximate="tanh": y = 0.5·x·(1 + tanh(√(2/π)·(x +
// 0.044715·x³))), computed in float64.
func geluTanh(x float32) (y, d float32) {
	const k, b = 0.7978845608028654, 0.044715 // √(2/π)
	v := float64(x)
	t := math.Tanh(k * (v + b*v*v*v))
	return float32(0.5 * v * (1 + t)), float32(0.5*(1+t) + 0.5*v*(1-t*t)*k*(1+3*b*v*v))
}
