//go:build cgo

package gradgraph

import (
	"math/rand/v2"
	"slices"
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
// 1×1 read by a Sigmoid → global pool, Flatten, Gemm to 10 classes.
func bottleneckModel(t *testing.T) *onnx.Model {
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
	return parseGraph(t, graph, 13)
}

// TestChainsMatchInterpreter runs bottleneckModel's blocked form with fed
// weights, whose forward Convs, Relus and Adds take the blocked chains,
// against the interpreter, and checks the chains' shape: every Conv but
// the one a Sigmoid reads blocked; the Adds' Convs fused with them and the
// Relus after as their Sum and activation; the other Relus fused into
// their Convs; the Relus' outputs, which the backward pass reads, and
// nothing else reordered back. With constant weights ONNX Runtime blocks
// the forward itself, and the form has no chains.
func TestChainsMatchInterpreter(t *testing.T) {
	testort.Need(t)
	block := cpuBlock()
	if block == 0 {
		t.Skip("this machine's ONNX Runtime has no NCHWc kernels")
	}
	m := bottleneckModel(t)
	for _, fed := range []bool{false, true} {
		c, parts, err := compareForm(t, m, 3, true, 17, 0, 1, false, block, fed)
		if err != nil {
			t.Fatal(err)
		}
		c.check(t, map[bool]string{false: "constant weights", true: "fed weights"}[fed])
		g, err := Build(m, &Options{Weights: true, FeedWeights: fed})
		if err != nil {
			t.Fatal(err)
		}
		b, n, err := g.Blocked(block)
		if err != nil {
			t.Fatal(err)
		}
		if n != parts {
			t.Fatalf("Blocked gave %d parts, compareForm %d", n, parts)
		}
		var sums, activations int
		var back, plain []string
		for _, nd := range b.Proto.GetGraph().GetNode() {
			switch {
			case nd.GetOpType() == "Conv" && nd.GetDomain() == ort.NCHWcDomain:
				if len(nd.GetInput()) == 4 {
					sums++
				}
				for _, a := range nd.GetAttribute() {
					if a.GetName() == "activation" && string(a.GetS()) == "Relu" {
						activations++
					}
				}
			case nd.GetOpType() == "ReorderOutput":
				if name := nd.GetOutput()[0]; len(name) == 2 && name[0] == 'r' {
					back = append(back, name)
				}
			case nd.GetOpType() == "Conv" && nd.GetDomain() == "" && slices.Contains([]string{"c1", "c3", "c4", "c6", "c7"}, nd.GetOutput()[0]):
				plain = append(plain, nd.GetOutput()[0])
			}
		}
		slices.Sort(back)
		if !fed {
			if sums != 0 || activations != 0 || len(plain) != 5 {
				t.Errorf("constant weights: %d Sums and %d activations fused, 1×1 Convs on the plain path %v; want none, none and all five", sums, activations, plain)
			}
			continue
		}
		if sums != 2 || activations != 6 || !slices.Equal(back, []string{"r0", "r1", "r2", "r3", "r4", "r5"}) || !slices.Equal(plain, []string{"c7"}) {
			t.Errorf("fed weights: %d Sums and %d activations fused, %v reordered back, %v on the plain path; want 2, 6, r0-r5 and c7", sums, activations, back, plain)
		}
	}
}
