//go:build cgo

package gradgraph

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// lnChain describes a LayerNorm chain as PyTorch exports it below opset
// 17, with the departures a near miss makes.
type lnChain struct {
	square    string // "Pow" (x−μ to the power exponent) or "Mul" (x−μ times itself)
	exponent  float32
	varAxes   int64   // the variance's ReduceMean axis; the mean's is -1
	epsWeight bool    // ε an initializer, a weight when weight gradients are asked for
	shareXc   bool    // x − μ also an input of the residual Add at the end
	epsDims   []int64 // a constant ε's shape: one element, of any rank
}

// lnChainModel returns x [N, 3, 8] → LayerNorm over the last axis
// (ReduceMean, Sub, square, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β) → +x.
func lnChainModel(t *testing.T, c lnChain) *onnx.Model {
	t.Helper()
	constant := func(out string, dims []int64, v float32) *onnx.NodeProto {
		n := nodeProto("Constant", out)
		n.Attribute = []*onnx.AttributeProto{{Name: proto.String("value"), Type: onnx.AttributeProto_TENSOR.Enum(), T: floatInit("", dims, v)}}
		return n
	}
	mean := func(out, in string, axis int64) *onnx.NodeProto {
		n := nodeProto("ReduceMean", out, in)
		n.Attribute = []*onnx.AttributeProto{aInts("axes", axis)}
		return n
	}
	nodes := []*onnx.NodeProto{mean("mu", "x", -1), nodeProto("Sub", "xc", "x", "mu")}
	if c.square == "Pow" {
		nodes = append(nodes, constant("two", nil, c.exponent), nodeProto("Pow", "sq", "xc", "two"))
	} else {
		nodes = append(nodes, nodeProto("Mul", "sq", "xc", "xc"))
	}
	inits := []*onnx.TensorProto{floatInit("gamma", []int64{8}, 0.5, 1, 1.5, 2, -1, 0.8, 1.2, 0.9),
		floatInit("beta", []int64{8}, 0.1, 0, -0.1, 0.2, 0, 0.3, -0.2, 0)}
	if c.epsWeight {
		inits = append(inits, floatInit("eps", nil, 1e-5))
	} else {
		nodes = append(nodes, constant("eps", c.epsDims, 1e-5))
	}
	residual := "x"
	if c.shareXc {
		residual = "xc"
	}
	nodes = append(nodes, mean("var", "sq", c.varAxes), nodeProto("Add", "ve", "var", "eps"), nodeProto("Sqrt", "sd", "ve"),
		nodeProto("Div", "xhat", "xc", "sd"), nodeProto("Mul", "scaled", "xhat", "gamma"), nodeProto("Add", "ln", "scaled", "beta"),
		nodeProto("Add", "y", "ln", residual))
	if len(c.epsDims) > 3 { // back to rank 3: [1, N, 3, 8] → [N, 3, 8]
		nodes[len(nodes)-1].Output[0], nodes[len(nodes)-1].Name = "y4", proto.String("y4")
		nodes = append(nodes, nodeProto("Squeeze", "y", "y4", "axis0"))
		inits = append(inits, int64Vector("axis0", 0))
	}
	graph := &onnx.GraphProto{Name: proto.String("layernorm"),
		Input:       []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 3, 8})},
		Output:      []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)},
		Initializer: inits, Node: nodes}
	return parseGraph(t, graph, 13)
}

// TestLayerNormChainMatchesInterpreter checks the chain's compact backward
// against the interpreter, and that it is taken exactly where the chain is
// one: the backward half then reads neither x − μ nor any Pow, while each
// near miss keeps the node-by-node rules (which read x − μ) and agrees too.
func TestLayerNormChainMatchesInterpreter(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name    string
		chain   lnChain
		matched bool // without weight gradients
	}{
		{"Pow 2", lnChain{square: "Pow", exponent: 2, varAxes: -1}, true},
		{"Mul xc xc, positive axis", lnChain{square: "Mul", varAxes: 2}, true},
		{"ε an initializer", lnChain{square: "Pow", exponent: 2, varAxes: -1, epsWeight: true}, true},
		{"near miss: Pow 4", lnChain{square: "Pow", exponent: 4, varAxes: -1}, false},
		{"near miss: variance over another axis", lnChain{square: "Pow", exponent: 2, varAxes: 1}, false},
		{"near miss: x − μ read elsewhere", lnChain{square: "Pow", exponent: 2, varAxes: -1, shareXc: true}, false},
		// x̂ broadcast to rank 4 by ε: the compact rule would reduce over
		// x's axes of a rank-4 tensor.
		{"near miss: ε of rank 4", lnChain{square: "Pow", exponent: 2, varAxes: -1, epsDims: []int64{1, 1, 1, 1}}, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := lnChainModel(t, test.chain)
			for _, weights := range []bool{true, false} {
				c, err := compareOn(t, m, 2, weights, 23, -2, 2, false)
				if err != nil {
					t.Fatal(err)
				}
				c.check(t, test.name)
				g, err := Build(m, &Options{Weights: weights})
				if err != nil {
					t.Fatal(err)
				}
				// With weight gradients an initializer ε wants its own.
				want := test.matched && !(weights && test.chain.epsWeight)
				nodes := g.Model.Proto.GetGraph().GetNode()[len(m.Proto.GetGraph().GetNode()):]
				readsXc, pow := false, false
				for _, n := range nodes {
					pow = pow || n.GetOpType() == "Pow"
					for _, in := range n.GetInput() {
						readsXc = readsXc || in == "xc"
					}
				}
				if got := !readsXc && !pow; got != want {
					t.Errorf("%s (weights %v): compact backward taken %v, want %v (backward reads x − μ: %v, has a Pow: %v)", test.name, weights, got, want, readsXc, pow)
				}
			}
		})
	}
}

// TestLayerNormalizationReadsItsStatistics checks that the backward of the
// LayerNormalization operator reads the forward node's Mean and InvStdDev,
// named by the model or added, instead of recomputing the statistics (no
// Sqrt, no Reciprocal), and agrees with the interpreter.
func TestLayerNormalizationReadsItsStatistics(t *testing.T) {
	testort.Need(t)
	for _, nout := range []int{1, 3} {
		m := oneNode(t, "LayerNormalization", 17, nout, []*onnx.AttributeProto{aInt("axis", -1)}, x(2, 3, 8), w(8), w(8))
		for _, weights := range []bool{true, false} {
			c, err := compareOn(t, m, 2, weights, 37, -2, 2, false)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, "LayerNormalization")
		}
		g, err := Build(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		nodes := g.Model.Proto.GetGraph().GetNode()
		ln := nodes[0]
		if len(ln.GetOutput()) != 3 || ln.GetOutput()[1] == "" || ln.GetOutput()[2] == "" {
			t.Errorf("%d outputs: the forward LayerNormalization writes %q, want its Mean and InvStdDev too", nout, ln.GetOutput())
		}
		read := map[string]bool{}
		for _, n := range nodes[1:] {
			if op := n.GetOpType(); op == "Sqrt" || op == "Reciprocal" {
				t.Errorf("%d outputs: backward node %s (%s) recomputes the statistics", nout, n.GetName(), op)
			}
			for _, in := range n.GetInput() {
				read[in] = true
			}
		}
		if len(ln.GetOutput()) == 3 && (!read[ln.GetOutput()[1]] || !read[ln.GetOutput()[2]]) {
			t.Errorf("%d outputs: the backward half does not read %q", nout, ln.GetOutput()[1:])
		}
	}
}
