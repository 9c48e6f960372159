//go:build cgo

package gradgraph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// in is one input of a one-node test model: the graph input x,
// or an initializer, float (random, a weight whose gradient is checked) or
// with fixed int64 or bool values.
type in struct {
	input  bool // the graph input x
	shape  []int64
	ints   []int64   // int64 values: an initializer the gradient does not flow to
	floats []float32 // fixed float values, such as Resize's scales
	bools  []bool
	float  bool // a random float initializer
	skip   bool // an omitted optional input
}

func x(shape ...int64) in               { return in{shape: shape, input: true} }
func w(shape ...int64) in               { return in{shape: shape, float: true} }
func ints(v ...int64) in                { return in{shape: []int64{int64(len(v))}, ints: v} }
func bools(shape []int64, v ...bool) in { return in{shape: shape, bools: v} }

// oneNode builds a model whose one node reads x and initializers and writes
// y, the logits, and nout − 1 more outputs no one reads.
func oneNode(t *testing.T, op string, opset int64, nout int, attrs []*onnx.AttributeProto, ins ...in) *onnx.Model {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(len(op)), 3))
	graph := &onnx.GraphProto{Name: proto.String(op), Output: []*onnx.ValueInfoProto{valueInfo("y", onnx.TensorProto_FLOAT, nil)}}
	node := &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(op), Output: []string{"y"}, Attribute: attrs}
	for j := 1; j < nout; j++ {
		node.Output = append(node.Output, fmt.Sprintf("y%d", j))
	}
	for i, v := range ins {
		name := []string{"i0", "i1", "i2", "i3", "i4", "i5"}[i]
		switch {
		case v.skip:
			name = ""
		case v.input:
			graph.Input = append(graph.Input, valueInfo(name, onnx.TensorProto_FLOAT, v.shape))
		case v.ints != nil:
			graph.Initializer = append(graph.Initializer, &onnx.TensorProto{Name: proto.String(name), Dims: v.shape,
				DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: v.ints})
		case v.floats != nil:
			graph.Initializer = append(graph.Initializer, &onnx.TensorProto{Name: proto.String(name), Dims: v.shape,
				DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: v.floats})
		case v.bools != nil:
			var raw []byte
			for _, b := range v.bools {
				raw = append(raw, map[bool]byte{false: 0, true: 1}[b])
			}
			graph.Initializer = append(graph.Initializer, &onnx.TensorProto{Name: proto.String(name), Dims: v.shape,
				DataType: proto.Int32(int32(onnx.TensorProto_BOOL)), RawData: raw})
		default:
			n := 1
			for _, d := range v.shape {
				n *= int(d)
			}
			data := make([]float32, n)
			for j := range data {
				data[j] = 0.5 + rng.Float32()
			}
			graph.Initializer = append(graph.Initializer, &onnx.TensorProto{Name: proto.String(name), Dims: v.shape,
				DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: data})
		}
		node.Input = append(node.Input, name)
	}
	graph.Node = []*onnx.NodeProto{node}
	return parseGraph(t, graph, opset)
}

// TestOperatorsMatchInterpreter checks every operator's backward rule on a
// one-node model: input and weight gradients against the interpreter's.
func TestOperatorsMatchInterpreter(t *testing.T) {
	testort.Need(t)
	f, i, is, s := aFloat, aInt, aInts, aStr
	type attrs = []*onnx.AttributeProto
	for _, test := range []struct {
		name     string
		op       string
		opset    int64
		attrs    attrs
		ins      []in
		positive bool // draw x from [0.2, 2) instead of [−2, 2)
	}{
		{"Identity", "Identity", 13, nil, []in{x(2, 5)}, false},
		{"Dropout", "Dropout", 13, nil, []in{x(2, 5)}, false},
		{"Cast", "Cast", 13, attrs{i("to", 1)}, []in{x(2, 5)}, false},
		{"Relu", "Relu", 13, nil, []in{x(2, 3, 4)}, false},
		{"LeakyRelu", "LeakyRelu", 13, attrs{f("alpha", 0.2)}, []in{x(2, 6)}, false},
		{"Elu", "Elu", 13, attrs{f("alpha", 0.7)}, []in{x(2, 6)}, false},
		{"Sigmoid", "Sigmoid", 13, nil, []in{x(2, 6)}, false},
		{"Tanh", "Tanh", 13, nil, []in{x(2, 6)}, false},
		{"HardSigmoid", "HardSigmoid", 13, attrs{f("alpha", 0.4), f("beta", 0.6)}, []in{x(2, 8)}, false},
		{"HardSwish", "HardSwish", 14, nil, []in{x(2, 8)}, false},
		{"Erf", "Erf", 13, nil, []in{x(2, 6)}, false},
		{"Sqrt", "Sqrt", 13, nil, []in{x(2, 6)}, true},
		{"Exp", "Exp", 13, nil, []in{x(2, 6)}, false},
		{"Log", "Log", 13, nil, []in{x(2, 6)}, true},
		{"Neg", "Neg", 13, nil, []in{x(2, 6)}, false},
		{"Softplus", "Softplus", 13, nil, []in{x(2, 6)}, false},
		{"Abs", "Abs", 13, nil, []in{x(2, 6)}, false},
		{"Celu", "Celu", 13, attrs{f("alpha", 0.8)}, []in{x(2, 6)}, false},
		{"ThresholdedRelu", "ThresholdedRelu", 13, attrs{f("alpha", 0.3)}, []in{x(2, 6)}, false},
		{"Mish", "Mish", 18, nil, []in{x(2, 6)}, false},
		{"Floor, no gradient", "Floor", 13, nil, []in{x(2, 6)}, false},
		{"DepthToSpace DCR", "DepthToSpace", 13, attrs{i("blocksize", 2)}, []in{x(2, 8, 2, 3)}, false},
		{"DepthToSpace CRD", "DepthToSpace", 13, attrs{i("blocksize", 2), s("mode", "CRD")}, []in{x(2, 8, 2, 3)}, false},
		{"SpaceToDepth", "SpaceToDepth", 13, attrs{i("blocksize", 2)}, []in{x(2, 2, 4, 6)}, false},
		{"Tile", "Tile", 13, nil, []in{x(2, 3, 2), ints(1, 2, 3)}, false},
		{"GatherElements repeated", "GatherElements", 13, attrs{i("axis", 1)}, []in{x(2, 3), {shape: []int64{2, 4}, ints: []int64{0, 2, 2, 1, 1, 1, 0, 2}}}, false},
		{"CumSum", "CumSum", 14, nil, []in{x(2, 5), {shape: []int64{}, ints: []int64{1}}}, false},
		{"CumSum reverse exclusive", "CumSum", 14, attrs{i("reverse", 1), i("exclusive", 1)}, []in{x(2, 5), {shape: []int64{}, ints: []int64{-1}}}, false},
		{"ReduceSumSquare", "ReduceSumSquare", 13, attrs{is("axes", 2)}, []in{x(2, 3, 4)}, false},
		{"ReduceLogSumExp dropped axis", "ReduceLogSumExp", 13, attrs{is("axes", 1), i("keepdims", 0)}, []in{x(2, 3, 4)}, false},
		{"Reciprocal", "Reciprocal", 13, nil, []in{x(2, 6)}, true},
		{"Softsign", "Softsign", 13, nil, []in{x(2, 6)}, false},
		{"Selu", "Selu", 13, attrs{f("alpha", 1.5), f("gamma", 1.1)}, []in{x(2, 6)}, false},
		{"PRelu per channel", "PRelu", 16, nil, []in{x(2, 3, 2, 2), w(3, 1, 1)}, false},
		{"Sum of three", "Sum", 13, nil, []in{x(2, 3, 4), w(4), w(3, 1)}, false},
		{"Max of three", "Max", 13, nil, []in{x(2, 3, 4), w(4), w(3, 1)}, false},
		{"Min with ties", "Min", 13, nil, []in{x(2, 3), {shape: []int64{3}, floats: []float32{-0.5, 0, 0.5}}, {shape: []int64{3}, floats: []float32{-0.5, 0, 0.5}}}, false},
		{"Mean of two", "Mean", 13, nil, []in{x(2, 3), w(2, 3)}, false},
		{"GlobalMaxPool", "GlobalMaxPool", 13, nil, []in{x(2, 3, 4, 5)}, false},
		{"Clip bounds as weights", "Clip", 13, nil, []in{x(2, 8), w(), w()}, false},
		{"Clip min only", "Clip", 13, nil, []in{x(2, 8), w()}, false},
		{"Softmax axis 1", "Softmax", 13, attrs{i("axis", 1)}, []in{x(2, 4, 3)}, false},
		{"Softmax last axis", "Softmax", 13, nil, []in{x(2, 4, 3)}, false},
		{"LogSoftmax", "LogSoftmax", 13, attrs{i("axis", -1)}, []in{x(2, 5)}, false},
		{"Pow exponent as weight", "Pow", 13, nil, []in{x(2, 3), w(3)}, true},
		{"Pow square", "Pow", 13, nil, []in{x(2, 3), {shape: []int64{}, floats: []float32{2}}}, false},
		{"Pow cube", "Pow", 13, nil, []in{x(2, 3), {shape: []int64{}, floats: []float32{3}}}, false},
		{"Pow one", "Pow", 13, nil, []in{x(2, 3), {shape: []int64{1}, floats: []float32{1}}}, false},
		{"Pow constant -1.5", "Pow", 13, nil, []in{x(2, 3), {shape: []int64{}, floats: []float32{-1.5}}}, true},
		{"Add broadcast", "Add", 13, nil, []in{x(2, 3, 4), w(3, 1)}, false},
		{"Sub broadcast", "Sub", 13, nil, []in{x(2, 3, 4), w(4)}, false},
		{"Mul broadcast", "Mul", 13, nil, []in{x(2, 3, 4), w(1, 3, 1)}, false},
		{"Div broadcast", "Div", 13, nil, []in{x(2, 3, 4), w(4)}, false},
		{"Div x as divisor", "Div", 13, nil, []in{x(2, 4), w(2, 4)}, true},
		{"Expand", "Expand", 13, nil, []in{x(2, 1, 3), ints(2, 4, 3)}, false},
		{"Where", "Where", 16, nil, []in{bools([]int64{3}, true, false, true), x(2, 3), w(2, 3)}, false},
		{"Reshape", "Reshape", 13, nil, []in{x(2, 3, 4), ints(2, 12)}, false},
		{"Flatten", "Flatten", 13, nil, []in{x(2, 3, 2, 2)}, false},
		{"Squeeze", "Squeeze", 13, nil, []in{x(2, 1, 5), ints(1)}, false},
		{"Unsqueeze", "Unsqueeze", 13, nil, []in{x(2, 5), ints(2)}, false},
		{"Transpose", "Transpose", 13, attrs{is("perm", 0, 2, 1)}, []in{x(2, 3, 4)}, false},
		{"Concat with a weight", "Concat", 13, attrs{i("axis", 1)}, []in{x(2, 3), w(2, 2)}, false},
		{"Gather scalar index", "Gather", 13, attrs{i("axis", 1)}, []in{x(2, 4, 3), ints(2)}, false},
		{"Gather rank-0 negative index", "Gather", 13, attrs{i("axis", 1)}, []in{x(2, 3, 4), {shape: []int64{}, ints: []int64{-2}}}, false},
		{"Gather repeated indices", "Gather", 13, attrs{i("axis", 2)}, []in{x(2, 2, 4), ints(0, 3, 0, 1)}, false},
		{"Slice unit steps (padded back)", "Slice", 13, nil, []in{x(2, 3, 6), ints(1, -4), ints(3, 100), ints(1, 2)}, false},
		{"Slice with steps", "Slice", 13, nil, []in{x(2, 10), ints(1), ints(9), ints(1), ints(3)}, false},
		{"Slice negative step", "Slice", 13, nil, []in{x(2, 3, 6), ints(5, 2), ints(0, 0), ints(2, 1), ints(-2, -1)}, false},
		{"Pad", "Pad", 13, nil, []in{x(2, 2, 3, 3), ints(0, 0, 1, 2, 0, 0, 2, -1)}, false},
		{"Pad reflect", "Pad", 13, attrs{s("mode", "reflect")}, []in{x(2, 2, 4, 5), ints(0, 0, 2, 1, 0, 0, 1, 3)}, false},
		{"Pad edge", "Pad", 13, attrs{s("mode", "edge")}, []in{x(2, 2, 3, 3), ints(0, 0, 2, 0, 0, 0, 1, 4)}, false},
		{"Resize linear half_pixel", "Resize", 13, attrs{s("mode", "linear")}, []in{x(2, 2, 3, 4), {skip: true}, {shape: []int64{4}, floats: []float32{1, 1, 2, 1.5}}}, false},
		{"Resize nearest asymmetric", "Resize", 13, attrs{s("mode", "nearest"), s("coordinate_transformation_mode", "asymmetric")}, []in{x(2, 2, 3, 4), {skip: true}, {shape: []int64{4}, floats: []float32{1, 1, 2, 3}}}, false},
		{"Resize cubic to sizes", "Resize", 13, attrs{s("mode", "cubic")}, []in{x(2, 2, 4, 4), {skip: true}, {skip: true}, ints(2, 2, 7, 5)}, false},
		{"ConvTranspose", "ConvTranspose", 13, attrs{is("strides", 2, 2), is("pads", 1, 0, 1, 1), is("output_padding", 1, 0)}, []in{x(2, 4, 3, 3), w(4, 3, 3, 2), w(3)}, false},
		{"ConvTranspose grouped", "ConvTranspose", 13, attrs{i("group", 2), is("dilations", 2, 1)}, []in{x(2, 4, 3, 3), w(4, 1, 2, 2)}, false},
		{"ReduceMean keepdims", "ReduceMean", 13, attrs{is("axes", 2)}, []in{x(2, 3, 4)}, false},
		{"ReduceMean dropped axes", "ReduceMean", 13, attrs{is("axes", 1, 3), i("keepdims", 0)}, []in{x(2, 3, 4, 2)}, false},
		{"ReduceSum", "ReduceSum", 13, attrs{i("keepdims", 0)}, []in{x(2, 3, 4), ints(-1)}, false},
		{"GlobalAveragePool", "GlobalAveragePool", 13, nil, []in{x(2, 3, 4, 5)}, false},
		{"MatMul 2-D", "MatMul", 13, nil, []in{x(2, 5), w(5, 3)}, false},
		{"MatMul batched weight", "MatMul", 13, nil, []in{x(2, 3, 4, 5), w(3, 5, 2)}, false},
		{"Gemm", "Gemm", 13, attrs{f("alpha", 0.5), f("beta", 2)}, []in{x(2, 4), w(4, 3), w(3)}, false},
		{"Gemm transposed", "Gemm", 13, attrs{i("transA", 1), i("transB", 1)}, []in{x(4, 4), w(3, 4), w(1, 3)}, false},
		{"Conv padded", "Conv", 13, attrs{is("pads", 1, 1, 1, 1)}, []in{x(2, 3, 5, 5), w(4, 3, 3, 3), w(4)}, false},
		{"Conv stride 2 dilated", "Conv", 13, attrs{is("strides", 2, 2), is("dilations", 2, 1), is("pads", 1, 0, 2, 1)}, []in{x(2, 2, 9, 8), w(3, 2, 3, 2)}, false},
		{"Conv grouped", "Conv", 13, attrs{i("group", 2), is("strides", 2, 2)}, []in{x(2, 4, 7, 7), w(6, 2, 3, 3), w(6)}, false},
		{"Conv depthwise same", "Conv", 13, attrs{i("group", 4), s("auto_pad", "SAME_UPPER"), is("strides", 2, 2)}, []in{x(2, 4, 6, 6), w(4, 1, 3, 3)}, false},
		{"Conv 1x1", "Conv", 13, nil, []in{x(2, 3, 4, 4), w(5, 3, 1, 1)}, false},
		{"Conv 1x1 stride 2", "Conv", 13, attrs{is("strides", 2, 2)}, []in{x(2, 16, 8, 8), w(8, 16, 1, 1)}, false},
		{"Conv 7x7 stride 2", "Conv", 13, attrs{is("strides", 2, 2), is("pads", 3, 3, 3, 3)}, []in{x(2, 3, 16, 16), w(8, 3, 7, 7)}, false},
		{"Conv 3x3 stride 2 wide", "Conv", 13, attrs{is("strides", 2, 2), is("pads", 1, 1, 1, 1)}, []in{x(2, 64, 14, 14), w(64, 64, 3, 3)}, false},
		{"Conv 3x3 wide", "Conv", 13, attrs{is("pads", 1, 1, 1, 1)}, []in{x(2, 64, 14, 14), w(64, 64, 3, 3)}, false},
		{"Conv 8 channels as a Conv", "Conv", 13, attrs{is("pads", 1, 0, 1, 2), is("dilations", 1, 2)}, []in{x(2, 8, 5, 6), w(4, 8, 3, 3), w(4)}, false},
		{"Conv depthwise stride 1", "Conv", 13, attrs{i("group", 8), is("pads", 1, 1, 1, 1)}, []in{x(2, 8, 5, 5), w(8, 1, 3, 3)}, false},
		{"Conv grouped stride 1", "Conv", 13, attrs{i("group", 2), s("auto_pad", "SAME_LOWER")}, []in{x(2, 8, 4, 4), w(6, 4, 2, 2)}, false},
		{"Conv 1-D", "Conv", 13, attrs{is("pads", 1, 1)}, []in{x(2, 3, 7), w(2, 3, 3)}, false},
		{"Conv 1x1 stride 2 odd plane", "Conv", 13, attrs{is("strides", 2, 2)}, []in{x(2, 8, 7, 9), w(4, 8, 1, 1)}, false},
		{"Conv 1x1 padded", "Conv", 13, attrs{is("pads", 1, 0, 1, 2)}, []in{x(2, 4, 5, 5), w(3, 4, 1, 1), w(3)}, false},
		{"Conv same upper strides 2 1", "Conv", 13, attrs{s("auto_pad", "SAME_UPPER"), is("strides", 2, 1)}, []in{x(2, 3, 7, 6), w(5, 3, 3, 2)}, false},
		{"Conv 1x1 1-D biased", "Conv", 13, nil, []in{x(2, 4, 7), w(3, 4, 1), w(3)}, false},
		{"Conv depthwise 5x5 stride 2", "Conv", 13, attrs{i("group", 16), is("strides", 2, 2), is("pads", 2, 2, 2, 2)}, []in{x(2, 16, 8, 8), w(16, 1, 5, 5), w(16)}, false},
		{"Conv depthwise strided dilated", "Conv", 13, attrs{i("group", 8), is("strides", 2, 3), is("dilations", 2, 1), is("pads", 1, 2, 0, 1)}, []in{x(2, 8, 9, 10), w(8, 1, 3, 3)}, false},
		{"Conv grouped 1-D stride 3", "Conv", 13, attrs{i("group", 3), is("strides", 3), is("pads", 0, 2)}, []in{x(2, 6, 11), w(6, 2, 2)}, false},
		{"MaxPool ResNet stem", "MaxPool", 13, attrs{is("kernel_shape", 3, 3), is("strides", 2, 2), is("pads", 1, 1, 1, 1)}, []in{x(2, 8, 16, 16)}, false},
		{"MaxPool 2x2", "MaxPool", 13, attrs{is("kernel_shape", 2, 2), is("strides", 2, 2)}, []in{x(2, 3, 6, 6)}, false},
		{"MaxPool overlapping padded", "MaxPool", 13, attrs{is("kernel_shape", 3, 3), is("strides", 2, 2), is("pads", 1, 1, 1, 1)}, []in{x(2, 2, 7, 7)}, false},
		{"AveragePool padded", "AveragePool", 13, attrs{is("kernel_shape", 3, 3), is("strides", 2, 2), is("pads", 1, 1, 1, 1)}, []in{x(2, 2, 7, 7)}, false},
		{"AveragePool count_include_pad", "AveragePool", 13, attrs{is("kernel_shape", 3, 3), is("pads", 1, 1, 1, 1), i("count_include_pad", 1)}, []in{x(2, 2, 5, 5)}, false},
		{"AveragePool ceil_mode", "AveragePool", 13, attrs{is("kernel_shape", 3, 3), is("strides", 2, 2), i("ceil_mode", 1)}, []in{x(2, 2, 8, 8)}, false},
		{"BatchNormalization", "BatchNormalization", 13, attrs{f("epsilon", 1e-3)}, []in{x(2, 3, 4, 4), w(3), w(3), w(3), w(3)}, false},
		{"InstanceNormalization", "InstanceNormalization", 13, attrs{f("epsilon", 1e-3)}, []in{x(2, 3, 4, 5), w(3), w(3)}, false},
		{"LayerNormalization", "LayerNormalization", 17, attrs{i("axis", -1)}, []in{x(2, 3, 8), w(8), w(8)}, false},
		{"LayerNormalization two axes", "LayerNormalization", 17, attrs{i("axis", 1)}, []in{x(2, 3, 4), w(3, 4)}, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := oneNode(t, test.op, test.opset, 1, test.attrs, test.ins...)
			lo, hi := float32(-2), float32(2)
			if test.positive {
				lo = 0.2
			}
			// With weight gradients, and without: a graph for the input
			// gradient alone needs fewer values, and some rules take a
			// shorter path when their other operands need none.
			for _, weights := range []bool{true, false} {
				c, err := compareOn(t, m, 2, weights, 11, lo, hi, false)
				if err != nil {
					t.Fatal(err)
				}
				c.check(t, test.name)
			}
		})
	}
}

// TestSplitMatchesInterpreter: only the first piece is the logits; the
// others' gradients are zeros the rule makes.
func TestSplitMatchesInterpreter(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name  string
		nout  int
		axis  int64
		input []int64
		sizes in
	}{
		{"two pieces", 2, 1, []int64{2, 7}, ints(3, 4)},
		{"three pieces", 3, 2, []int64{2, 2, 6}, ints(2, 2, 2)},
	} {
		m := oneNode(t, "Split", 13, test.nout, []*onnx.AttributeProto{aInt("axis", test.axis)}, x(test.input...), test.sizes)
		c, err := compareOn(t, m, 2, true, 13, -2, 2, false)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		c.check(t, test.name)
	}
}

// parseGraph returns graph as a parsed model at opset.
func parseGraph(t *testing.T, graph *onnx.GraphProto, opset int64) *onnx.Model {
	t.Helper()
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

// nodeProto returns a node of op, named after its one output out, reading
// ins.
func nodeProto(op, out string, ins ...string) *onnx.NodeProto {
	return &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(out), Input: ins, Output: []string{out}}
}

// int64Init returns an int64 initializer of shape dims (nil: a scalar).
func int64Init(name string, dims []int64, v ...int64) *onnx.TensorProto {
	return &onnx.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: v}
}

// int64Vector returns the int64 initializer holding v, of shape [len(v)].
func int64Vector(name string, v ...int64) *onnx.TensorProto {
	return int64Init(name, []int64{int64(len(v))}, v...)
}

// floatInit returns a float initializer of shape dims (nil: a scalar).
func floatInit(name string, dims []int64, v ...float32) *onnx.TensorProto {
	return &onnx.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: v}
}
