package testfiles

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// NHWCLinear builds a channels-last linear classifier of k classes for
// h×w×c images, as tf2onnx lays one out: input x [N,h,w,c], Transpose to
// NCHW, Flatten, MatMul by seeded weights W, output y [N,k]. It returns the
// model and W, row-major (c·h·w)×k, whose rows follow the NCHW order of
// the pixels: y = flatten(NCHW pixels)·W, the reference a test computes
// without the model.
func NHWCLinear(t testing.TB, h, w, c, k int, seed uint64) (*onnx.Model, []float32) {
	t.Helper()
	dims := func(d ...int64) *onnx.TensorShapeProto {
		s := &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}}}
		for _, v := range d {
			s.Dim = append(s.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: v}})
		}
		return s
	}
	io := func(name string, s *onnx.TensorShapeProto) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.TensorProto_FLOAT)), Shape: s}}}}
	}
	rng := rand.New(rand.NewPCG(seed, 18))
	weights := &onnx.TensorProto{Name: proto.String("w"), Dims: []int64{int64(c * h * w), int64(k)}, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT))}
	for range c * h * w * k {
		weights.FloatData = append(weights.FloatData, rng.Float32()-0.5)
	}
	nodes := []*onnx.NodeProto{
		{OpType: proto.String("Transpose"), Name: proto.String("to_nchw"), Input: []string{"x"}, Output: []string{"nchw"},
			Attribute: []*onnx.AttributeProto{{Name: proto.String("perm"), Type: onnx.AttributeProto_INTS.Enum(), Ints: []int64{0, 3, 1, 2}}}},
		{OpType: proto.String("Flatten"), Name: proto.String("flatten"), Input: []string{"nchw"}, Output: []string{"flat"}},
		{OpType: proto.String("MatMul"), Name: proto.String("dense"), Input: []string{"flat", "w"}, Output: []string{"y"}},
	}
	graph := &onnx.GraphProto{Name: proto.String("nhwc_linear"), Node: nodes, Initializer: []*onnx.TensorProto{weights},
		Input:  []*onnx.ValueInfoProto{io("x", dims(int64(h), int64(w), int64(c)))},
		Output: []*onnx.ValueInfoProto{io("y", dims(int64(k)))}}
	data, err := proto.Marshal(&onnx.ModelProto{IrVersion: proto.Int64(8), Graph: graph,
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: proto.Int64(13)}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, "")
	if err != nil {
		t.Fatal(err)
	}
	return m, weights.FloatData
}
