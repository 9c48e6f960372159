package gradgraph

import (
	"fmt"
	"maps"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestBlockedFormIsAGraph checks, without ONNX Runtime, the blocked form at
// both block sizes MLAS uses (this machine's kernels run one of them), of
// a graph with fed weights and of one with constant weights: every value
// is written once, before any node reads it, the Scan bodies too; the
// portable graph is left as it was; the parts that fit each block are the
// ones the channel counts say; and dense weights over a blocked input are
// reordered by ReorderInput where they are fed, by standard operators
// that ONNX Runtime folds where they are constants. With fed weights the
// forward Convs, Relus and Adds take the chains (nchwcchain.go), each a
// part.
func TestBlockedFormIsAGraph(t *testing.T) {
	for _, tc := range []struct {
		model     string
		fed       bool
		at8, at16 int
		// dense8 and dense16: the form has a dense blocked Conv over a
		// blocked input, at block 8 and 16.
		dense8, dense16 bool
	}{
		// mnv3_blocks' 72-channel depthwise layer (stride 2: its forward)
		// fits a block of 8, not one of 16.
		{"mnv3_blocks", false, 9, 8, false, false},
		// Fed, the depthwise Convs with the Relus after them, and at 8 a
		// 1×1 expansion too, which feeds a Relu and a depthwise Conv.
		{"mnv3_blocks", true, 13, 9, true, false},
		{"convnext_tiny", false, 8, 8, true, true},
		{"convnext_tiny", true, 8, 8, true, true},
		{"fmnist_cnn", false, 3, 3, true, true},
		// The two forward Convs each with its Relu.
		{"fmnist_cnn", true, 5, 5, true, true},
	} {
		t.Run(fmt.Sprintf("%s/fed=%v", tc.model, tc.fed), func(t *testing.T) {
			checkBlockedForm(t, tc.model, tc.fed, tc.at8, tc.at16, tc.dense8, tc.dense16)
		})
	}
}

// checkBlockedForm is TestBlockedFormIsAGraph on one model.
func checkBlockedForm(t *testing.T, model string, fed bool, at8, at16 int, dense8, dense16 bool) {
	t.Helper()
	m, err := onnx.Load(filepath.Join("..", "testdata", "models", model+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(m, &Options{Weights: true, FeedWeights: fed})
	if err != nil {
		t.Fatal(err)
	}
	weights := map[string]bool{}
	for _, name := range g.Params {
		weights[name] = true
	}
	before := proto.Clone(g.Model.Proto)
	for _, c := range []struct {
		block, want int
		dense       bool
	}{{8, at8, dense8}, {16, at16, dense16}} {
		b, n, err := g.Blocked(c.block)
		if err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("block %d: %d parts blocked, want %d", c.block, n, c.want)
		}
		domains := 0
		for _, o := range b.Proto.GetOpsetImport() {
			if o.GetDomain() == ort.NCHWcDomain {
				domains++
			}
		}
		if domains != 1 {
			t.Errorf("block %d: %d imports of %s, want 1", c.block, domains, ort.NCHWcDomain)
		}
		defined := map[string]bool{}
		gp := b.Proto.GetGraph()
		for _, vi := range gp.GetInput() {
			defined[vi.GetName()] = true
		}
		for _, init := range gp.GetInitializer() {
			defined[init.GetName()] = true
		}
		checkOrder(t, gp, defined)
		reordered := 0
		for _, n := range gp.GetNode() {
			if n.GetOpType() == "ReorderInput" && weights[n.GetInput()[0]] {
				reordered++
			}
		}
		if want := fed && c.dense; (reordered > 0) != want {
			t.Errorf("block %d: %d weights reordered by ReorderInput, want some %v", c.block, reordered, want)
		}
	}
	if !proto.Equal(g.Model.Proto, before) {
		t.Error("Blocked changed the portable graph")
	}
	if b, n, err := g.Blocked(1); err != nil || n != 0 || b != g.Model {
		t.Errorf("Blocked(1) = %d parts, %v; want the portable graph itself", n, err)
	}
}

// checkOrder fails t where a node of gp reads a value not yet defined or
// writes one already defined, or leaves an output unwritten; defined holds the outer scope's values and
// gains gp's. A Scan's body sees the outer scope and its own inputs, and
// its values' names are taken by nothing in the outer graph.
func checkOrder(t *testing.T, gp *onnx.GraphProto, defined map[string]bool) {
	t.Helper()
	inBodies := map[string]bool{}
	for _, n := range gp.GetNode() {
		for _, in := range n.GetInput() {
			if in != "" && !defined[in] {
				t.Errorf("node %q (%s) reads %q before it is written", n.GetName(), n.GetOpType(), in)
			}
		}
		for _, a := range n.GetAttribute() {
			body := a.GetG()
			if body == nil {
				continue
			}
			inner := maps.Clone(defined)
			for _, vi := range body.GetInput() {
				if defined[vi.GetName()] {
					t.Errorf("body input %q shadows an outer value", vi.GetName())
				}
				inner[vi.GetName()] = true
			}
			for _, init := range body.GetInitializer() {
				inner[init.GetName()] = true
			}
			checkOrder(t, body, inner)
			for k := range inner {
				if !defined[k] {
					inBodies[k] = true
				}
			}
		}
		for _, out := range n.GetOutput() {
			if out == "" {
				continue
			}
			if defined[out] {
				t.Errorf("node %q (%s) writes %q a second time", n.GetName(), n.GetOpType(), out)
			}
			defined[out] = true
		}
	}
	for k := range inBodies {
		if defined[k] {
			t.Errorf("%q is a value of a body and of the graph around it", k)
		}
	}
	for _, o := range gp.GetOutput() {
		if !defined[o.GetName()] {
			t.Errorf("graph %q: output %q is never written", gp.GetName(), o.GetName())
		}
	}
}

// TestFoldable checks which values the blocked form takes for constants
// that ONNX Runtime folds.
func TestFoldable(t *testing.T) {
	node := func(op, domain string, ins []string, out string) *onnx.NodeProto {
		return &onnx.NodeProto{OpType: proto.String(op), Domain: proto.String(domain), Input: ins, Output: []string{out}}
	}
	gp := &onnx.GraphProto{
		Input:       []*onnx.ValueInfoProto{{Name: proto.String("x")}, {Name: proto.String("old")}},
		Initializer: []*onnx.TensorProto{{Name: proto.String("w")}, {Name: proto.String("old")}, {Name: proto.String("q")}},
		Node: []*onnx.NodeProto{
			node("Constant", "", nil, "c"),
			node("Identity", "", []string{"w"}, "w2"),
			node("Mul", "ai.onnx", []string{"w2", "c"}, "w3"),
			node("Mul", "", []string{"w", "x"}, "wx"),
			node("DequantizeLinear", "", []string{"q", "c"}, "dq"),
			node("Identity", "", []string{"dq"}, "dq2"),
			node("ReorderInput", ort.NCHWcDomain, []string{"w"}, "r"),
			node("Identity", "", []string{"old"}, "old2"),
			node("Shape", "", []string{""}, "none"),
			node("RandomNormalLike", "", []string{"w"}, "rand"),
		},
	}
	f := foldable(gp)
	for _, c := range []struct {
		name string
		want bool
	}{
		{"w", true}, {"c", true}, {"w2", true}, {"w3", true},
		{"x", false}, {"wx", false}, {"dq", false}, {"dq2", false}, {"r", false},
		// An initializer that is also an input may be overridden.
		{"old", false}, {"old2", false},
		{"none", false}, {"rand", false},
	} {
		if f[c.name] != c.want {
			t.Errorf("foldable[%q] = %v, want %v", c.name, f[c.name], c.want)
		}
	}
}
