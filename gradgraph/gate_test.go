//go:build cgo

package gradgraph

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// chainModel returns x [N, 8] → SiLU → GELU (PyTorch's order) → GELU
// (halved first, operands commuted) → Slice [:, 1:7].
func chainModel(t *testing.T) *onnx.Model {
	t.Helper()
	graph := &onnx.GraphProto{Name: proto.String("chain"),
		Input:  []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 8})},
		Output: []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)},
		Initializer: []*onnx.TensorProto{floatInit("root2", nil, float32(math.Sqrt2)), floatInit("one", nil, 1), floatInit("half", nil, 0.5),
			int64Vector("s0", 1), int64Vector("s1", 7), int64Vector("ax", 1)},
		Node: []*onnx.NodeProto{
			nodeProto("Sigmoid", "sig", "x"), nodeProto("Mul", "silu", "sig", "x"),
			nodeProto("Div", "d", "silu", "root2"), nodeProto("Erf", "e", "d"), nodeProto("Add", "a", "e", "one"),
			nodeProto("Mul", "m", "silu", "a"), nodeProto("Mul", "g1", "m", "half"),
			nodeProto("Div", "d2", "g1", "root2"), nodeProto("Erf", "e2", "d2"), nodeProto("Add", "a2", "one", "e2"),
			nodeProto("Mul", "h", "half", "g1"), nodeProto("Mul", "g2", "a2", "h"),
			nodeProto("Slice", "y", "g2", "s0", "s1", "ax"),
		}}
	return parseGraph(t, graph, 13)
}

// TestGateChainsKeepOnlyX checks that the SiLU and GELU chains and the
// Slice differentiate as the interpreter does, and what the backward half
// reads of the chains: of a SiLU only its x; of a GELU k·x·(1 + erf(x/c))
// only x/c and 1 + erf(x/c), which the forward computed (no second Erf),
// and not x itself.
func TestGateChainsKeepOnlyX(t *testing.T) {
	testort.Need(t)
	m := chainModel(t)
	c, err := compareOn(t, m, 3, false, 5, -3, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	c.check(t, "SiLU, GELU, GELU, Slice")
	g, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	// silu is GELU's x, g1 the second GELU's.
	inner := map[string]bool{"sig": true, "e": true, "m": true, "e2": true, "h": true, "g2": true, "silu": true, "g1": true}
	read := map[string]bool{}
	for _, n := range g.Model.Proto.GetGraph().GetNode()[len(m.Proto.GetGraph().GetNode()):] {
		if n.GetOpType() == "Erf" {
			t.Errorf("backward node %s recomputes an Erf the forward computed", n.GetName())
		}
		for _, in := range n.GetInput() {
			read[in] = true
			if inner[in] {
				t.Errorf("backward node %s (%s) reads %s, an intermediate value of a gated chain", n.GetName(), n.GetOpType(), in)
			}
		}
	}
	for _, v := range []string{"x", "d", "a", "d2", "a2"} {
		if !read[v] {
			t.Errorf("the backward half does not read %s", v)
		}
	}
}
