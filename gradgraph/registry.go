package gradgraph

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
)

// rule emits the backward nodes of one forward node: given the gradients
// of its outputs (dy[j] is "" where the loss does not reach output j), it
// returns the gradient of each input, "" where none flows or none is needed.
type rule func(b *builder, n *onnx.Node, dy []string) ([]string, error)

// rules holds the backward rule of every supported operator, by op type.
var rules = map[string]rule{}

func register(opType string, r rule) { rules[opType] = r }

// Supported returns the operators that have a backward rule, sorted.
func Supported() []string {
	ops := make([]string, 0, len(rules))
	for op := range rules {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// needs reports whether input i of n wants a gradient.
func (b *builder) needs(n *onnx.Node, i int) bool {
	return i < len(n.Inputs) && n.Inputs[i] != "" && b.need[n.Inputs[i]]
}

// unary returns a rule for y = f(x) whose gradient is dy · d(x, y), d
// emitting the local derivative from the names of x and y.
func unary(d func(b *builder, x, y string) string) rule {
	return func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return []string{b.op("Mul", []string{dy[0], d(b, n.Inputs[0], n.Outputs[0])})}, nil
	}
}

// where returns cond ? g : 0, the gradient of a piecewise-linear op with
// slope one where cond holds. It multiplies by the condition as 0 or 1:
// ONNX Runtime's Where with a broadcast scalar takes several times as long.
func (b *builder) where(cond, g string) string {
	return b.op("Mul", []string{g, b.op("Cast", []string{cond}, aInt("to", int64(onnx.TensorProto_FLOAT)))})
}
