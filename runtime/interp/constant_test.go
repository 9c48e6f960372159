package interp

import (
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"google.golang.org/protobuf/proto"
)

// TestConstantKeepsItsValue runs a Conv whose weight comes from a
// Constant node several times: the executor must never give the
// Constant's storage back for reuse, or a later run's allocation of the
// same size writes over the weights (this once gave 45, 45, then 405).
func TestConstantKeepsItsValue(t *testing.T) {
	w := &onnx.TensorProto{Dims: []int64{1, 1, 3, 3}, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)),
		FloatData: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	dim := func(n int64) *onnx.TensorShapeProto_Dimension {
		return &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: n}}
	}
	io := func(name string, dims ...int64) *onnx.ValueInfoProto {
		shape := &onnx.TensorShapeProto{}
		for _, d := range dims {
			shape.Dim = append(shape.Dim, dim(d))
		}
		return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.TensorProto_FLOAT)), Shape: shape}}}}
	}
	graph := &onnx.GraphProto{
		Name: proto.String("constant_conv"),
		Node: []*onnx.NodeProto{
			{OpType: proto.String("Constant"), Name: proto.String("w"), Output: []string{"w"},
				Attribute: []*onnx.AttributeProto{{Name: proto.String("value"), Type: onnx.AttributeProto_TENSOR.Enum(), T: w}}},
			{OpType: proto.String("Conv"), Name: proto.String("conv"), Input: []string{"x", "w"}, Output: []string{"y"}},
			{OpType: proto.String("Relu"), Name: proto.String("relu"), Input: []string{"y"}, Output: []string{"z"}},
		},
		Input:  []*onnx.ValueInfoProto{io("x", 1, 1, 5, 5)},
		Output: []*onnx.ValueInfoProto{io("z", 1, 1, 3, 3)},
	}
	mp := &onnx.ModelProto{IrVersion: proto.Int64(8), Graph: graph,
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: proto.Int64(13)}}}
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := &Tensor{Shape: []int{1, 1, 5, 5}, Data: make([]float32, 25)}
	for i := range x.Data {
		x.Data[i] = 1
	}
	for run := range 4 {
		out, err := p.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out[0].Data {
			if v != 45 {
				t.Fatalf("run %d: output %v, want 45 everywhere (the sum of the weights)", run, out[0].Data)
			}
		}
	}
}
