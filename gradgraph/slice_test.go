//go:build cgo

package gradgraph

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// TestComputedSliceBounds checks Slices whose bounds the graph computes
// from a shape, as PyTorch's exports of attention cut a fused QKV
// projection in thirds: their input gradients match the interpreter's,
// and the graph pads dy back (slicepads.go) or joins the pieces
// (slicetiles.go) instead of scattering it element by element.
func TestComputedSliceBounds(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name  string
		parts [][2]string // each part's start and end, from the values below
		axis  int64
		int32 bool // bounds cast to int32 before the Slice
	}{
		{"thirds of the last axis", [][2]string{{"zero", "third"}, {"third", "twothirds"}, {"twothirds", "whole"}}, 2, false},
		{"thirds, negative axis, int32 bounds", [][2]string{{"zero", "third"}, {"third", "twothirds"}, {"twothirds", "whole"}}, -1, true},
		{"negative starts, ends past the end", [][2]string{{"minusthird", "huge"}, {"minustwothirds", "minusthird"}}, 2, false},
		{"an end before its start, empty", [][2]string{{"twothirds", "third"}, {"zero", "whole"}}, 2, false},
		{"a middle axis", [][2]string{{"one", "three"}}, 1, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := computedSliceModel(t, test.parts, test.axis, test.int32)
			c, err := compareOn(t, m, 3, false, 11, -2, 2, false)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, test.name)
			if ops := opTypes(t, m); slices.Contains(ops, "Range") || !slices.Contains(ops, "Pad") && !slices.Contains(ops, "Concat") {
				t.Errorf("%s: the graph scatters dy back by element positions: %v", test.name, ops)
			}
		})
	}
}

// computedSliceModel builds x [N, 4, 12] → Slices of the given parts along
// axis, bounds computed from x's shape (the last axis' thirds, the middle
// axis' 1 and 3) and unsqueezed to [1] → each part times its own constant
// → their sum, flattened, where the parts' shapes agree, else each part's
// sum concatenated.
func computedSliceModel(t *testing.T, parts [][2]string, axis int64, narrow bool) *onnx.Model {
	t.Helper()
	node := func(op string, out string, ins ...string) *onnx.NodeProto {
		return &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(out), Input: ins, Output: []string{out}}
	}
	ints := func(name string, dims []int64, v ...int64) *onnx.TensorProto {
		return &onnx.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: v}
	}
	scalar := func(name string, v float32) *onnx.TensorProto {
		return &onnx.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{v}}
	}
	inits := []*onnx.TensorProto{ints("last", nil, 2), ints("threev", nil, 3), ints("two", nil, 2), ints("zerov", nil, 0),
		ints("onev", nil, 1), ints("big", nil, 1<<40), ints("ax0", []int64{1}, 0)}
	if narrow {
		inits = append(inits, &onnx.TensorProto{Name: proto.String("axis"), Dims: []int64{1}, DataType: proto.Int32(int32(onnx.TensorProto_INT32)), Int32Data: []int32{int32(axis)}})
	} else {
		inits = append(inits, ints("axis", []int64{1}, axis))
	}
	nodes := []*onnx.NodeProto{
		node("Shape", "shape", "x"), node("Gather", "d", "shape", "last"),
		node("Div", "third0", "d", "threev"), node("Mul", "twothirds0", "third0", "two"),
		node("Neg", "minusthird0", "third0"), node("Neg", "minustwothirds0", "twothirds0"),
		node("Sub", "zero0", "third0", "third0"), node("Add", "huge0", "d", "big"),
		node("Identity", "whole0", "d"), node("Div", "one0", "third0", "third0"), node("Add", "three0", "one0", "two"),
	}
	for _, v := range []string{"third", "twothirds", "minusthird", "minustwothirds", "zero", "huge", "whole", "one", "three"} {
		u := node("Unsqueeze", v+"1", v+"0", "ax0")
		nodes = append(nodes, u)
		if narrow {
			c := node("Cast", v, v+"1")
			c.Attribute = []*onnx.AttributeProto{aInt("to", int64(onnx.TensorProto_INT32))}
			nodes = append(nodes, c)
		} else {
			nodes = append(nodes, node("Identity", v, v+"1"))
		}
	}
	var weighted []string
	for i, p := range parts {
		s, w, r := "part"+string(rune('a'+i)), "w"+string(rune('a'+i)), "weighted"+string(rune('a'+i))
		inits = append(inits, scalar(w, float32(i+1)*0.75-1))
		nodes = append(nodes, node("Slice", s, "x", p[0], p[1], "axis"), node("Mul", r, s, w))
		weighted = append(weighted, r)
	}
	nodes = append(nodes, node("Concat", "cat", weighted...), node("Flatten", "y", "cat"))
	nodes[len(nodes)-2].Attribute = []*onnx.AttributeProto{aInt("axis", 2)}
	graph := &onnx.GraphProto{Name: proto.String("slices"), Node: nodes, Initializer: inits,
		Input:  []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 4, 12})},
		Output: []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)}}
	return parseGraph(t, graph, 13)
}
