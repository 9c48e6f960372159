//go:build cgo

package gradgraph

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// runtimeSliceModel returns x [N, 3, 12] → Slice whose bounds come from
// x's Shape at run time, as PyTorch exports attention's q, k, v split
// (k = 12/3: start k, end 2k along the last axis) → Flatten. negative
// writes the start as k − 12; twoAxes also cuts [1:3] along axis 1; step
// is the steps input's value, 0 for none.
func runtimeSliceModel(t *testing.T, negative, twoAxes bool, step int64) *onnx.Model {
	t.Helper()
	node := func(op string, out string, ins ...string) *onnx.NodeProto {
		return &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(out), Input: ins, Output: []string{out}}
	}
	ints := func(name string, v ...int64) *onnx.TensorProto {
		return &onnx.TensorProto{Name: proto.String(name), Dims: []int64{int64(len(v))}, DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: v}
	}
	inits := []*onnx.TensorProto{ints("two", 2), ints("three", 3), ints("one", 1), ints("axes1", -1), ints("axes2", 1, -1), ints("steps", step, step)}
	nodes := []*onnx.NodeProto{node("Shape", "sh", "x"), node("Gather", "last", "sh", "two"),
		node("Div", "k", "last", "three"), node("Mul", "end", "k", "two")}
	start, end, axes := "k", "end", "axes1"
	if negative {
		nodes = append(nodes, node("Sub", "negk", "k", "last"))
		start = "negk"
	}
	if twoAxes {
		nodes = append(nodes, node("Concat", "starts", "one", start), node("Concat", "ends", "three", end))
		nodes[len(nodes)-2].Attribute = []*onnx.AttributeProto{aInt("axis", 0)}
		nodes[len(nodes)-1].Attribute = []*onnx.AttributeProto{aInt("axis", 0)}
		start, end, axes = "starts", "ends", "axes2"
	}
	slice := node("Slice", "s", "x", start, end, axes)
	if step != 0 {
		steps := "steps"
		if !twoAxes {
			inits = append(inits, ints("step1", step))
			steps = "step1"
		}
		slice.Input = append(slice.Input, steps)
	}
	nodes = append(nodes, slice, node("Flatten", "y", "s"))
	graph := &onnx.GraphProto{Name: proto.String("runtime_slice"),
		Input:       []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 3, 12})},
		Output:      []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)},
		Initializer: inits, Node: nodes}
	return parseGraph(t, graph, 13)
}

// TestSliceRuntimeBoundsPadBack checks that a Slice with unit steps and
// bounds computed at run time differentiates as dy padded back (no
// ScatterElements) and agrees with the interpreter, and that a step of 2
// keeps the general rule.
func TestSliceRuntimeBoundsPadBack(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name              string
		negative, twoAxes bool
		step              int64
		padded            bool
	}{
		{"one axis", false, false, 0, true},
		{"negative start, unit step", true, false, 1, true},
		{"two axes", false, true, 0, true},
		{"two axes, negative start, unit steps", true, true, 1, true},
		{"near miss: step 2", false, false, 2, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := runtimeSliceModel(t, test.negative, test.twoAxes, test.step)
			c, err := compareOn(t, m, 2, false, 29, -2, 2, false)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, test.name)
			ops := opTypes(t, m)
			if padded := slices.Contains(ops, "Pad") && !slices.Contains(ops, "ScatterElements"); padded != test.padded {
				t.Errorf("%s: padded back %v, want %v (ops %v)", test.name, padded, test.padded, ops)
			}
		})
	}
}
