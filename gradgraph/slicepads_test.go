//go:build cgo

package gradgraph

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// runtimeSlice says how runtimeSliceModel departs from its plain Slice.
type runtimeSlice struct {
	negative bool  // the start written as k − 12
	twoAxes  bool  // [1:3] along axis 1 cut too
	step     int64 // the steps input's value, 0 for none
	pastEnd  bool  // the end written as 2k + 2⁴⁰, clamped to 12
	narrow   bool  // bounds cast to int32, axes an int32 constant
}

// runtimeSliceModel returns x [N, 3, 12] → Slice whose bounds come from
// x's Shape at run time, as PyTorch exports attention's q, k, v split
// (k = 12/3: start k, end 2k along the last axis) → Flatten.
func runtimeSliceModel(t *testing.T, c runtimeSlice) *onnx.Model {
	negative, twoAxes, step := c.negative, c.twoAxes, c.step
	t.Helper()
	inits := []*onnx.TensorProto{int64Vector("two", 2), int64Vector("three", 3), int64Vector("one", 1), int64Vector("axes1", -1), int64Vector("axes2", 1, -1), int64Vector("steps", step, step),
		int64Vector("big", 1<<40)}
	nodes := []*onnx.NodeProto{nodeProto("Shape", "sh", "x"), nodeProto("Gather", "last", "sh", "two"),
		nodeProto("Div", "k", "last", "three"), nodeProto("Mul", "end", "k", "two")}
	start, end, axes := "k", "end", "axes1"
	if c.pastEnd {
		nodes = append(nodes, nodeProto("Add", "far", "end", "big"))
		end = "far"
	}
	if negative {
		nodes = append(nodes, nodeProto("Sub", "negk", "k", "last"))
		start = "negk"
	}
	if twoAxes {
		nodes = append(nodes, nodeProto("Concat", "starts", "one", start), nodeProto("Concat", "ends", "three", end))
		nodes[len(nodes)-2].Attribute = []*onnx.AttributeProto{aInt("axis", 0)}
		nodes[len(nodes)-1].Attribute = []*onnx.AttributeProto{aInt("axis", 0)}
		start, end, axes = "starts", "ends", "axes2"
	}
	if c.narrow {
		for _, v := range []*string{&start, &end} {
			cast := nodeProto("Cast", *v+"32", *v)
			cast.Attribute = []*onnx.AttributeProto{aInt("to", int64(onnx.TensorProto_INT32))}
			nodes, *v = append(nodes, cast), *v+"32"
		}
		for _, a := range inits {
			if a.GetName() == axes {
				inits = append(inits, &onnx.TensorProto{Name: proto.String(axes + "32"), Dims: a.Dims, DataType: proto.Int32(int32(onnx.TensorProto_INT32)), Int32Data: narrowInts(a.Int64Data)})
				break
			}
		}
		axes += "32"
	}
	slice := nodeProto("Slice", "s", "x", start, end, axes)
	if step != 0 {
		steps := "steps"
		if !twoAxes {
			inits = append(inits, int64Vector("step1", step))
			steps = "step1"
		}
		slice.Input = append(slice.Input, steps)
	}
	nodes = append(nodes, slice, nodeProto("Flatten", "y", "s"))
	graph := &onnx.GraphProto{Name: proto.String("runtime_slice"),
		Input:       []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 3, 12})},
		Output:      []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)},
		Initializer: inits, Node: nodes}
	return parseGraph(t, graph, 13)
}

// TestSliceRuntimeBoundsPadBack checks that a Slice with unit steps and
// bounds computed at run time differentiates as dy padded back (no
// ScatterElements), bounds resolved as Slice resolves them (negative,
// past the end, int32), and agrees with the interpreter, and that a step
// of 2 keeps the general rule. (An empty piece, its end before its start,
// is TestSliceTilesConcatenate's near miss.)
func TestSliceRuntimeBoundsPadBack(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name   string
		slice  runtimeSlice
		padded bool
	}{
		{"one axis", runtimeSlice{}, true},
		{"negative start, unit step", runtimeSlice{negative: true, step: 1}, true},
		{"two axes", runtimeSlice{twoAxes: true}, true},
		{"two axes, negative start, unit steps", runtimeSlice{negative: true, twoAxes: true, step: 1}, true},
		{"end past the end", runtimeSlice{pastEnd: true}, true},
		{"int32 bounds and axes, two axes", runtimeSlice{narrow: true, twoAxes: true, negative: true}, true},
		{"near miss: step 2", runtimeSlice{step: 2}, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := runtimeSliceModel(t, test.slice)
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

func narrowInts(v []int64) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}
