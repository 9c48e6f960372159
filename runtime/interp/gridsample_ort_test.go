//go:build cgo

package interp_test

import (
	"fmt"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
	"google.golang.org/protobuf/proto"
)

// oneNodeModel builds a model whose one node reads the float input x
// (shape xs) and constant initializers, and writes y (shape ys).
func oneNodeModel(t *testing.T, node *onnx.NodeProto, opset int64, xs, ys []int64, inits ...*onnx.TensorProto) *onnx.Model {
	return interp.GraphModel(t, []*onnx.NodeProto{node}, opset, xs, ys, inits...)
}

// TestGridSampleMatchesORT runs GridSample in every mode (by opset 16's
// names and opset 20's), padding and align_corners on ONNX Runtime and on
// the interpreter, with grid points inside and outside the image.
func TestGridSampleMatchesORT(t *testing.T) {
	testort.Need(t)
	rng := rand.New(rand.NewPCG(16, 16))
	grid := &onnx.TensorProto{Name: proto.String("grid"), Dims: []int64{2, 3, 4, 2},
		DataType: proto.Int32(int32(onnx.TensorProto_FLOAT))}
	for range 2 * 3 * 4 * 2 {
		grid.FloatData = append(grid.FloatData, float32(3.4*rng.Float64()-1.7))
	}
	x := &interp.Tensor{Shape: []int{2, 2, 4, 5}, Data: make([]float32, 2*2*4*5)}
	for i := range x.Data {
		x.Data[i] = 2*rng.Float32() - 1
	}
	for _, mode := range []string{"bilinear", "bicubic", "nearest", "linear", "cubic"} {
		opset := int64(16)
		if mode == "linear" || mode == "cubic" { // opset 20's names
			opset = 20
		}
		for _, pad := range []string{"zeros", "border", "reflection"} {
			for _, align := range []int64{0, 1} {
				name := fmt.Sprintf("%s %s align_corners=%d (opset %d)", mode, pad, align, opset)
				node := &onnx.NodeProto{OpType: proto.String("GridSample"), Name: proto.String("gs"), Input: []string{"x", "grid"}, Output: []string{"y"},
					Attribute: []*onnx.AttributeProto{
						{Name: proto.String("mode"), Type: onnx.AttributeProto_STRING.Enum(), S: []byte(mode)},
						{Name: proto.String("padding_mode"), Type: onnx.AttributeProto_STRING.Enum(), S: []byte(pad)},
						{Name: proto.String("align_corners"), Type: onnx.AttributeProto_INT.Enum(), I: proto.Int64(align)}}}
				m := oneNodeModel(t, node, opset, []int64{2, 2, 4, 5}, []int64{2, 2, 3, 4}, grid)
				data, err := m.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				s, err := ort.OpenBytes(data, &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU})
				if err != nil {
					t.Fatalf("%s: ONNX Runtime: %v", name, err)
				}
				want, _, err := s.Run(nil, x.Data, 2)
				s.Close()
				if err != nil {
					t.Fatalf("%s: ONNX Runtime: %v", name, err)
				}
				p, err := interp.Compile(m, nil)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got, err := p.Run(x)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				worst := 0.0
				for i, w := range want {
					worst = math.Max(worst, math.Abs(float64(got[0].Data[i]-w)))
				}
				if worst > 1e-5 {
					t.Errorf("%s: the interpreter differs from ONNX Runtime by up to %.3g", name, worst)
				}
			}
		}
	}
}
