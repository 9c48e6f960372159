package interp

import (
	"math"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"google.golang.org/protobuf/proto"
)

// graphModel builds a model of nodes reading the float input x (shape xs)
// and initializers, and writing y (shape ys).
func graphModel(t *testing.T, nodes []*onnx.NodeProto, opset int64, xs, ys []int64, inits ...*onnx.TensorProto) *onnx.Model {
	t.Helper()
	io := func(name string, dims []int64) *onnx.ValueInfoProto {
		shape := &onnx.TensorShapeProto{}
		for _, d := range dims {
			shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
		return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.TensorProto_FLOAT)), Shape: shape}}}}
	}
	graph := &onnx.GraphProto{Name: proto.String("g"), Node: nodes, Initializer: inits,
		Input: []*onnx.ValueInfoProto{io("x", xs)}, Output: []*onnx.ValueInfoProto{io("y", ys)}}
	data, err := proto.Marshal(&onnx.ModelProto{IrVersion: proto.Int64(8), Graph: graph,
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: proto.Int64(opset)}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func graphNode(op string, in, out []string) *onnx.NodeProto {
	return &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(op + "_" + out[0]), Input: in, Output: out}
}

func scalarInit(name string, v float32) *onnx.TensorProto {
	return &onnx.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{v}}
}

// TestGateFusesOnce: a fused SiLU node keeps the Sigmoid's graph node, and
// must not take a second Mul by x as another gate (x·σ(x)·x would then
// compute x·σ(x)).
func TestGateFusesOnce(t *testing.T) {
	m := graphModel(t, []*onnx.NodeProto{
		graphNode("Sigmoid", []string{"x"}, []string{"s"}),
		graphNode("Mul", []string{"x", "s"}, []string{"g"}),
		graphNode("Mul", []string{"g", "x"}, []string{"y"}),
	}, 13, []int64{1, 3}, []int64{1, 3})
	p, err := Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := &Tensor{Shape: []int{1, 3}, Data: []float32{1, 2, 3}}
	outs, err := p.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x.Data {
		want := float64(v) * float64(v) / (1 + math.Exp(-float64(v)))
		if math.Abs(float64(outs[0].Data[i])-want) > 1e-5 {
			t.Errorf("y[%d] = %v, want x²·σ(x) = %v (%d nodes after fusion, want 2)", i, outs[0].Data[i], want, len(p.nodes))
		}
	}
}

// TestComputedQuantScale: a QuantizeLinear/DequantizeLinear scale computed
// by a node dies at its last forward reader and its storage is recycled;
// the backward pass must not read it there.
func TestComputedQuantScale(t *testing.T) {
	zp := &onnx.TensorProto{Name: proto.String("z"), DataType: proto.Int32(int32(onnx.TensorProto_UINT8)), Int32Data: []int32{0}}
	m := graphModel(t, []*onnx.NodeProto{
		graphNode("Mul", []string{"s0", "one"}, []string{"s"}),
		graphNode("QuantizeLinear", []string{"x", "s", "z"}, []string{"q"}),
		graphNode("DequantizeLinear", []string{"q", "s", "z"}, []string{"d"}),
		graphNode("Relu", []string{"d"}, []string{"r"}),
		graphNode("Mul", []string{"t0", "one"}, []string{"t"}),
		graphNode("Mul", []string{"r", "t"}, []string{"y"}),
	}, 13, []int64{2, 4}, []int64{2, 4}, scalarInit("s0", 0.01), scalarInit("one", 1), scalarInit("t0", 0.5), zp)
	ref, err := Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref.keepAll = true
	lean, err := Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	lean.buffers.Poison = true
	x := &Tensor{Shape: []int{2, 4}, Data: []float32{0.1, 0.5, 0.9, 0.3, 0.2, 0.4, 0.6, 0.8}}
	want, err := ref.Grad(x, []int{1, 2}, Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	for run := range 3 {
		got, err := lean.Grad(x, []int{1, 2}, Want{Input: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Input.Data, want.Input.Data) {
			t.Fatalf("run %d: input gradient %v, want %v (the pass keeping every value)", run, got.Input.Data, want.Input.Data)
		}
	}
}

// TestRowBroadcastGradientShape: Add of x [2,3] (transposed) and a
// [1,1,1] constant has a rank-3 output; x's gradient must keep x's shape
// through the row-broadcast backward and the Transpose before it.
func TestRowBroadcastGradientShape(t *testing.T) {
	c := &onnx.TensorProto{Name: proto.String("c"), Dims: []int64{1, 1, 1}, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{0.5}}
	tr := graphNode("Transpose", []string{"x"}, []string{"t"})
	tr.Attribute = []*onnx.AttributeProto{{Name: proto.String("perm"), Type: onnx.AttributeProto_INTS.Enum(), Ints: []int64{1, 0}}}
	m := graphModel(t, []*onnx.NodeProto{tr, graphNode("Add", []string{"t", "c"}, []string{"y"})},
		13, []int64{2, 3}, []int64{1, 3, 2}, c)
	p, err := Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := &Tensor{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	r, err := p.Grad(x, []int{0}, Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Input.Shape, x.Shape) || len(r.Input.Data) != len(x.Data) {
		t.Fatalf("input gradient of shape %v (%d values), want %v", r.Input.Shape, len(r.Input.Data), x.Shape)
	}
}

// TestGradientSumsInPlace: a value read by several nodes sums their
// gradients, into the first one's storage where nothing else shares it.
// Sum's backward hands one dy to all of its inputs and Identity's passes
// it on, so x's first gradient here is storage that the gradients of a
// (Neg's output, still to be read) and c still hold when the Relu's
// contribution is added: the input gradient must still be dL/dy·[x > 0]
// (−1 + 1 + the Relu's step), call after call.
func TestGradientSumsInPlace(t *testing.T) {
	m := graphModel(t, []*onnx.NodeProto{
		graphNode("Neg", []string{"x"}, []string{"a"}),
		graphNode("Relu", []string{"x"}, []string{"c"}),
		graphNode("Identity", []string{"x"}, []string{"b"}),
		graphNode("Sum", []string{"a", "b", "c"}, []string{"y"}),
	}, 13, []int64{2, 3}, []int64{2, 3})
	p, err := Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := &Tensor{Shape: []int{2, 3}, Data: []float32{-1, 0.5, 2, 0.25, -0.75, 1}}
	labels := []int{2, 0}
	for call := range 3 {
		r, err := p.Grad(x, labels, Want{Input: true})
		if err != nil {
			t.Fatal(err)
		}
		_, dlogits, err := SoftmaxCrossEntropy(r.Logits, labels)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range x.Data {
			want := float32(0)
			if v > 0 {
				want = dlogits.Data[i]
			}
			if math.Abs(float64(r.Input.Data[i]-want)) > 1e-6 {
				t.Errorf("call %d: dL/dx[%d] = %v, want %v", call, i, r.Input.Data[i], want)
			}
		}
		r.Release()
	}
}
