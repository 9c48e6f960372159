//go:build cgo

package gradgraph

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// TestGatesMatchInterpreter checks x·f(x) with a sigmoid gate f, which Mul's
// rule differentiates as one (gate.go): either operand order, and a gate
// that feeds another node too, so that f's own rule adds its share.
func TestGatesMatchInterpreter(t *testing.T) {
	testort.Need(t)
	hard := []*onnx.AttributeProto{aFloat("alpha", 1.0/6), aFloat("beta", 0.5)}
	for _, test := range []struct {
		name   string
		gate   string
		attrs  []*onnx.AttributeProto
		swap   bool  // Mul(f(x), x)
		shared bool  // y = x·f(x) + f(x)
		c      int64 // channels
	}{
		{"SiLU", "Sigmoid", nil, false, false, 3},
		{"SiLU swapped", "Sigmoid", nil, true, false, 3},
		{"SiLU shared", "Sigmoid", nil, false, true, 3},
		{"SiLU 16 channels", "Sigmoid", nil, false, false, 16},
		{"SiLU 16 channels shared", "Sigmoid", nil, true, true, 16},
		{"HardSwish", "HardSigmoid", hard, false, false, 3},
		{"HardSwish swapped", "HardSigmoid", hard, true, false, 3},
		{"HardSwish shared", "HardSigmoid", hard, false, true, 3},
		{"HardSigmoid default", "HardSigmoid", nil, false, false, 3},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := gateModel(t, test.gate, test.attrs, test.swap, test.shared, test.c)
			if !strings.Contains(strings.Join(opTypes(t, m), " "), test.gate) {
				t.Fatalf("%s: the model lost its %s", test.name, test.gate)
			}
			for _, weights := range []bool{true, false} {
				c, err := compareOn(t, m, 2, weights, 17, -4, 4, false)
				if err != nil {
					t.Fatal(err)
				}
				c.check(t, test.name)
			}
		})
	}
}

// opTypes returns the op types of the gradient graph built from m.
func opTypes(t *testing.T, m *onnx.Model) []string {
	t.Helper()
	g, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := g.Model.Graph()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range gr.Nodes {
		ops = append(ops, n.OpType)
	}
	return ops
}

// gateModel builds s = gate(x); y = x·s (+ s if shared) on x of [N, c, 4, 4].
func gateModel(t *testing.T, gate string, attrs []*onnx.AttributeProto, swap, shared bool, c int64) *onnx.Model {
	t.Helper()
	g := nodeProto(gate, "s", "x")
	g.Attribute = attrs
	mul := nodeProto("Mul", "p", "x", "s")
	if swap {
		mul.Input = []string{"s", "x"}
	}
	nodes := []*onnx.NodeProto{g, mul}
	if shared {
		nodes = append(nodes, nodeProto("Add", "y", "p", "s"))
	} else {
		mul.Output, mul.Name = []string{"y"}, proto.String("y")
	}
	graph := &onnx.GraphProto{Name: proto.String("gate"), Node: nodes,
		Input:  []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{2, c, 4, 4})},
		Output: []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)}}
	return parseGraph(t, graph, 13)
}
