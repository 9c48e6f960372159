//go:build cgo

package gradgraph

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// TestLayerNormChainRefusesRankChange: an ε of one element but rank 4 on x
// of rank 3 makes the Div's output rank 4; the chain must not be matched
// (its compact rule would reduce over x's axes), and the node-by-node rules
// agree with the interpreter.
func TestLayerNormChainRefusesRankChange(t *testing.T) {
	testort.Need(t)
	node := func(op string, out string, ins ...string) *onnx.NodeProto {
		return &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(out), Input: ins, Output: []string{out}}
	}
	floats := func(name string, dims []int64, v ...float32) *onnx.TensorProto {
		return &onnx.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: v}
	}
	constant := func(out string, dims []int64, v float32) *onnx.NodeProto {
		n := node("Constant", out)
		n.Attribute = []*onnx.AttributeProto{{Name: proto.String("value"), Type: onnx.AttributeProto_TENSOR.Enum(), T: floats("", dims, v)}}
		return n
	}
	mean := func(out, in string, axis int64) *onnx.NodeProto {
		n := node("ReduceMean", out, in)
		n.Attribute = []*onnx.AttributeProto{aInts("axes", axis)}
		return n
	}
	nodes := []*onnx.NodeProto{mean("mu", "x", 2), node("Sub", "xc", "x", "mu"),
		constant("two", nil, 2), node("Pow", "sq", "xc", "two"),
		constant("eps", []int64{1, 1, 1, 1}, 1e-5),
		mean("var", "sq", 2), node("Add", "ve", "var", "eps"), node("Sqrt", "sd", "ve"),
		node("Div", "xhat", "xc", "sd"), node("Mul", "y0", "xhat", "gamma"), node("Squeeze", "y1", "y0", "zero"), func() *onnx.NodeProto {
			n := mean("y", "y1", 2)
			n.Attribute = append(n.Attribute, aInt("keepdims", 0))
			return n
		}()}
	inits := []*onnx.TensorProto{{Name: proto.String("zero"), Dims: []int64{1}, DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: []int64{0}}, floats("gamma", []int64{8}, 0.5, 1, 1.5, 2, -1, 0.8, 1.2, 0.9)}
	graph := &onnx.GraphProto{Name: proto.String("layernorm"),
		Input:       []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{-1, 3, 8})},
		Output:      []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)},
		Initializer: inits, Node: nodes}
	m := parseGraph(t, graph, 13)
	c, err := compareOn(t, m, 2, false, 23, -2, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	c.check(t, "eps rank 4")
}
