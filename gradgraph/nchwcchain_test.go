//go:build cgo

package gradgraph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// bottleneckModel returns two residual bottlenecks as ResNet-50 has them,
// at 16 and 32 channels: x [N, 3, 12, 12] → a 3×3 stem and Relu → 1×1,
// Relu, 3×3, Relu, 1×1, the Add of the stem's output, Relu → a 1×1 of
// stride 2 beside a 3×3 of stride 2, Relu and 1×1, their Add, Relu → a
// 1×1 read by a Sigmoid → global pool, Flatten, Gemm to 10 classes. The
// model's outputs are the logits y and then the values named in outputs.
func bottleneckModel(t *testing.T, outputs ...string) *onnx.Model {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 8))
	var inits []*onnx.TensorProto
	weights := func(name string, dims ...int64) string {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		fanIn := float32(1)
		if len(dims) > 1 {
			fanIn = float32(n / dims[0])
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = 2 * (rng.Float32() - 0.45) / fanIn
		}
		inits = append(inits, floatInit(name, dims, v...))
		return name
	}
	var nodes []*onnx.NodeProto
	conv := func(out, x string, co, ci, k, stride int64) string {
		n := nodeProto("Conv", out, x, weights(out+".w", co, ci, k, k), weights(out+".b", co))
		n.Attribute = []*onnx.AttributeProto{aInts("strides", stride, stride), aInts("pads", k/2, k/2, k/2, k/2)}
		nodes = append(nodes, n)
		return out
	}
	op := func(typ, out string, ins ...string) string {
		nodes = append(nodes, nodeProto(typ, out, ins...))
		return out
	}
	r0 := op("Relu", "r0", conv("stem", "x", 16, 3, 3, 1))
	r1 := op("Relu", "r1", conv("c1", r0, 32, 16, 1, 1))
	r2 := op("Relu", "r2", conv("c2", r1, 32, 32, 3, 1))
	r3 := op("Relu", "r3", op("Add", "a1", conv("c3", r2, 16, 32, 1, 1), r0))
	down := conv("c4", r3, 32, 16, 1, 2)
	r4 := op("Relu", "r4", conv("c5", r3, 32, 16, 3, 2))
	r5 := op("Relu", "r5", op("Add", "a2", conv("c6", r4, 32, 32, 1, 1), down))
	s := op("Sigmoid", "s", conv("c7", r5, 16, 32, 1, 1))
	op("Flatten", "f", op("GlobalAveragePool", "p", s))
	nodes = append(nodes, nodeProto("Gemm", "y", "f", weights("fc.w", 10, 16), weights("fc.b", 10)))
	nodes[len(nodes)-1].Attribute = []*onnx.AttributeProto{aInt("transB", 1)}
	graph := &onnx.GraphProto{Name: proto.String("bottlenecks"), Node: nodes, Initializer: inits,
		Input:  []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 3, 12, 12})},
		Output: []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)}}
	for _, o := range outputs {
		graph.Output = append(graph.Output, valueInfo(o, onnx.TensorProto_FLOAT, nil))
	}
	return parseGraph(t, graph, 13)
}

// TestChainsMatchInterpreter runs bottleneckModel's blocked form with fed
// weights, whose forward Convs, Relus and Adds take the blocked chains,
// against the interpreter, and checks the chains' shape: every Conv but
// the one a Sigmoid reads blocked; the Adds' Convs fused with them and the
// Relus after as their Sum and activation; the other Relus fused into
// their Convs; the Relus' outputs, which the backward pass reads, and
// nothing else reordered back. With constant weights ONNX Runtime blocks
// the forward itself, and the form has no chains. Then the same with c1
// (a Conv a Relu reads) and a1 (an Add a Relu reads) graph outputs too:
// neither fuses into what reads it, and both are reordered back.
func TestChainsMatchInterpreter(t *testing.T) {
	testort.Need(t)
	block := cpuBlock()
	if block == 0 {
		t.Skip("this machine's ONNX Runtime has no NCHWc kernels")
	}
	for _, tc := range []struct {
		outputs           []string
		sums, activations int
		back              []string
	}{
		{nil, 2, 6, []string{"r0", "r1", "r2", "r3", "r4", "r5"}},
		{[]string{"c1", "a1"}, 2, 4, []string{"a1", "c1", "r0", "r1", "r2", "r3", "r4", "r5"}},
	} {
		m := bottleneckModel(t, tc.outputs...)
		for _, fed := range []bool{false, true} {
			c, _, err := compareForm(t, m, 3, true, 17, 0, 1, false, block, fed)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, fmt.Sprintf("outputs %v, fed %v", tc.outputs, fed))
			sums, activations, back, plain := chainShape(t, m, fed, block)
			if !fed {
				if sums != 0 || activations != 0 || len(plain) != 5 {
					t.Errorf("outputs %v, constant weights: %d Sums and %d activations fused, 1×1 Convs on the plain path %v; want none, none and all five",
						tc.outputs, sums, activations, plain)
				}
				continue
			}
			if sums != tc.sums || activations != tc.activations || !slices.Equal(back, tc.back) || !slices.Equal(plain, []string{"c7"}) {
				t.Errorf("outputs %v, fed weights: %d Sums and %d activations fused, %v reordered back, %v on the plain path; want %d, %d, %v and c7",
					tc.outputs, sums, activations, back, plain, tc.sums, tc.activations, tc.back)
			}
		}
	}
}

// chainShape returns, in m's blocked form at block, the blocked Convs
// with a Sum and with an activation, the model's values reordered back to
// the plain layout (sorted), and which of its 1×1 Convs stay plain.
func chainShape(t *testing.T, m *onnx.Model, fed bool, block int) (sums, activations int, back, plain []string) {
	t.Helper()
	g, err := Build(m, &Options{Weights: true, FeedWeights: fed})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := g.Blocked(block)
	if err != nil {
		t.Fatal(err)
	}
	model := map[string]bool{}
	for _, n := range m.Proto.GetGraph().GetNode() {
		model[n.GetOutput()[0]] = true
	}
	for _, n := range b.Proto.GetGraph().GetNode() {
		out := n.GetOutput()[0]
		switch {
		case n.GetOpType() == "Conv" && n.GetDomain() == ort.NCHWcDomain:
			if len(n.GetInput()) == 4 {
				sums++
			}
			for _, a := range n.GetAttribute() {
				if a.GetName() == "activation" && string(a.GetS()) == "Relu" {
					activations++
				}
			}
		case n.GetOpType() == "ReorderOutput" && model[out]:
			back = append(back, out)
		case n.GetOpType() == "Conv" && n.GetDomain() == "" && slices.Contains([]string{"c1", "c3", "c4", "c6", "c7"}, out):
			plain = append(plain, out)
		}
	}
	slices.Sort(back)
	return sums, activations, back, plain
}

// TestChainsRefuseUnwrittenReads checks that a chain member reading a
// value that a member writes but has not yet written (a plan out of
// order) is an error, not a form that computes something else: a Relu's
// input, and a fused Conv's Sum.
func TestChainsRefuseUnwrittenReads(t *testing.T) {
	relu := nodeProto("Relu", "r", "v")
	add := nodeProto("Add", "a", "c", "s")
	c := &chainConv{n: nodeProto("Conv", "c", "x", "w"), blockedConv: blockedConv{x: "x", w: "w", y: "c", co: 16, ci: 16, group: 1, kh: 1, kw: 1,
		win: &window{kernel: []int64{1, 1}, strides: []int64{1, 1}, dilations: []int64{1, 1}, pads: []int64{0, 0, 0, 0}}}}
	for _, tc := range []struct {
		n   *onnx.NodeProto
		ch  *chains
		msg string
	}{
		{relu, &chains{written: map[string]bool{"v": true, "r": true}}, `Relu "r" reads "v" before a chain writes it`},
		{add, &chains{written: map[string]bool{"c": true, "s": true, "a": true}, conv: map[*onnx.NodeProto]*chainConv{c.n: c},
			fused: map[*onnx.NodeProto]fusion{add: {c: c, sum: "s"}}}, `Conv "c" reads "s" before a chain writes it`},
	} {
		tc.ch.member = map[*onnx.NodeProto]bool{tc.n: true}
		tc.ch.blocked, tc.ch.channels = map[string]string{}, map[string]int64{}
		err := tc.ch.emit(&lowering{used: map[string]bool{}, taken: map[string]bool{}}, tc.n, 16)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want one saying %s", tc.n.GetOpType(), err, tc.msg)
		}
	}
}
