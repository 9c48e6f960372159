//go:build cgo

package gradgraph

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// tilesModel returns x [N, 12] cut by three Slices along axis 1, each
// piece through its own op (×2, Tanh, Sigmoid), concatenated into y. With
// bounds nil the bounds come from x's Shape at run time (k = 12/3: [0, k),
// [k, 2k), [2k, 3k)), the second's start recomputed as a value of its own
// when fresh is set; otherwise bounds holds each piece's constant start and end.
func tilesModel(t *testing.T, bounds [][2]int64, fresh bool) *onnx.Model {
	t.Helper()
	inits := []*onnx.TensorProto{int64Vector("zero", 0), int64Vector("one", 1), int64Vector("two", 2), int64Vector("three", 3),
		{Name: proto.String("double"), DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{2}}}
	var nodes []*onnx.NodeProto
	starts, ends := []string{"zero", "k", "k2"}, []string{"k", "k2", "k3"}
	if bounds == nil {
		nodes = append(nodes, nodeProto("Shape", "sh", "x"), nodeProto("Gather", "last", "sh", "one"), nodeProto("Div", "k", "last", "three"),
			nodeProto("Mul", "k2", "k", "two"), nodeProto("Mul", "k3", "k", "three"))
		if fresh {
			nodes = append(nodes, nodeProto("Div", "kk", "last", "three"))
			starts[1] = "kk"
		}
	} else {
		for i, bd := range bounds {
			starts[i], ends[i] = string(rune('a'+i))+"s", string(rune('a'+i))+"e"
			inits = append(inits, int64Vector(starts[i], bd[0]), int64Vector(ends[i], bd[1]))
		}
	}
	for i, op := range []string{"Mul", "Tanh", "Sigmoid"} {
		p := string(rune('p' + i))
		nodes = append(nodes, nodeProto("Slice", p, "x", starts[i], ends[i], "one"))
		if op == "Mul" {
			nodes = append(nodes, nodeProto(op, p+"y", p, "double"))
		} else {
			nodes = append(nodes, nodeProto(op, p+"y", p))
		}
	}
	cat := nodeProto("Concat", "y", "py", "qy", "ry")
	cat.Attribute = []*onnx.AttributeProto{aInt("axis", 1)}
	graph := &onnx.GraphProto{Name: proto.String("tiles"),
		Input:       []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 12})},
		Output:      []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)},
		Initializer: inits, Node: append(nodes, cat)}
	return parseGraph(t, graph, 13)
}

// TestSliceTilesConcatenate checks that the gradients of Slices that tile
// an axis are concatenated, not padded and summed, and that pieces with a
// gap, an overlap or bounds that cannot be shown to meet are padded and
// summed as before; all agree with the interpreter.
func TestSliceTilesConcatenate(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name   string
		bounds [][2]int64
		fresh  bool
		joined bool
	}{
		{"run-time bounds", nil, false, true},
		{"constant bounds", [][2]int64{{0, 4}, {4, 8}, {8, 12}}, false, true},
		{"constant bounds out of order, clamped end", [][2]int64{{8, 100}, {0, 4}, {4, 8}}, false, true},
		{"near miss: a gap", [][2]int64{{0, 4}, {4, 8}, {9, 12}}, false, false},
		{"near miss: an overlap", [][2]int64{{0, 4}, {3, 8}, {8, 12}}, false, false},
		{"near miss: an empty piece ending before its start", [][2]int64{{0, 8}, {8, 4}, {4, 8}}, false, false},
		{"near miss: a start computed apart", nil, true, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := tilesModel(t, test.bounds, test.fresh)
			c, err := compareOn(t, m, 2, false, 31, -2, 2, false)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, test.name)
			g, err := Build(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			pads, concats := 0, 0
			for _, n := range g.Model.Proto.GetGraph().GetNode()[len(m.Proto.GetGraph().GetNode()):] {
				switch n.GetOpType() {
				case "Pad":
					pads++
				case "Concat":
					concats++
				}
			}
			// Run-time bounds that stay padded each build their pads with a Concat.
			if joined := pads == 0 && concats == 1; joined != test.joined {
				t.Errorf("%s: gradients concatenated %v, want %v (%d Pads, %d Concats)", test.name, joined, test.joined, pads, concats)
			}
		})
	}
}
