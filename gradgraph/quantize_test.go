//go:build cgo

package gradgraph

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// TestQuantizeDequantizeMatchInterpreter checks the straight-through rules
// of QuantizeLinear and DequantizeLinear (which only run as a pair: the
// integers between them are no logits) per tensor and per axis, signed and
// unsigned, with a scale small enough that some values clip.
func TestQuantizeDequantizeMatchInterpreter(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name  string
		scale []float32
		zero  []int64
		elem  onnx.TensorProto_DataType
	}{
		{"uint8 per tensor", []float32{0.01}, []int64{128}, onnx.TensorProto_UINT8},
		{"int8 per tensor", []float32{0.02}, []int64{-3}, onnx.TensorProto_INT8},
		{"int8 per axis", []float32{0.01, 0.02, 0.03}, []int64{0, 5, -5}, onnx.TensorProto_INT8},
	} {
		t.Run(test.name, func(t *testing.T) {
			dims := []int64{}
			if len(test.scale) > 1 {
				dims = []int64{int64(len(test.scale))}
			}
			var zraw []byte
			for _, z := range test.zero {
				zraw = append(zraw, byte(int8(z)))
			}
			inits := []*onnx.TensorProto{
				{Name: proto.String("s"), Dims: dims, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: test.scale},
				{Name: proto.String("z"), Dims: dims, DataType: proto.Int32(int32(test.elem)), RawData: zraw},
			}
			graph := &onnx.GraphProto{Name: proto.String("qdq"), Initializer: inits,
				Input:  []*onnx.ValueInfoProto{valueInfo("x", onnx.TensorProto_FLOAT, []int64{2, 3, 4})},
				Output: []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)},
				Node: []*onnx.NodeProto{
					{OpType: proto.String("QuantizeLinear"), Name: proto.String("q"), Input: []string{"x", "s", "z"}, Output: []string{"q"}},
					{OpType: proto.String("DequantizeLinear"), Name: proto.String("dq"), Input: []string{"q", "s", "z"}, Output: []string{"y"}},
				}}
			data, err := proto.Marshal(&onnx.ModelProto{IrVersion: proto.Int64(8), Graph: graph,
				OpsetImport: []*onnx.OperatorSetIdProto{{Version: proto.Int64(13)}}})
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnx.Parse(data, "")
			if err != nil {
				t.Fatal(err)
			}
			c, err := compareOn(t, m, 2, true, 5, -2, 2, false)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, test.name)
		})
	}
}
