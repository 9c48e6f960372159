package arch

import (
	"fmt"
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// Fixed parts of every model Build writes.
const (
	InputName  = "input"
	OutputName = "logits"
	opset      = 13
	irVersion  = 8
	producer   = "onnxguard"
)

// builder appends layers to a graph, tracking the shape of the value the
// next layer reads: c×h×w before flatten, features after it.
type builder struct {
	rng      *rand.Rand
	nodes    []*onnx.NodeProto
	inits    []*onnx.TensorProto
	cur      string // the value the next layer reads
	c, h, w  int
	features int // 0 until flatten
	count    map[string]int
	input    [3]int
}

func newBuilder(o Options) *builder {
	return &builder{
		rng: rand.New(rand.NewPCG(o.Seed, 0x6f6e6e78677561)), // second word: "onnxgua"
		cur: InputName, c: o.Input[0], h: o.Input[1], w: o.Input[2],
		count: map[string]int{}, input: o.Input,
	}
}

// name returns the next name for a layer kind: conv1, conv2, …
func (b *builder) name(kind string) string {
	b.count[kind]++
	return fmt.Sprintf("%s%d", kind, b.count[kind])
}

// add appends a node whose one output is named after it.
func (b *builder) add(op, name string, inputs []string, attrs ...*onnx.AttributeProto) {
	b.nodes = append(b.nodes, &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(name),
		Input: inputs, Output: []string{name}, Attribute: attrs})
	b.cur = name
}

// conv adds a 3×3 convolution with padding 1 and n filters.
func (b *builder) conv(n int) {
	name := b.name("conv")
	w := b.heNormal(name+".weight", []int64{int64(n), int64(b.c), 3, 3}, b.c*9)
	bias := b.zeros(name+".bias", []int64{int64(n)})
	b.add("Conv", name, []string{b.cur, w, bias},
		ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1), ints("strides", 1, 1), ints("dilations", 1, 1), intAttr("group", 1))
	b.c = n
}

func (b *builder) relu() { b.add("Relu", b.name("relu"), []string{b.cur}) }

// maxPool adds a 2×2 max-pool with stride 2, which floors odd sizes.
func (b *builder) maxPool() {
	b.add("MaxPool", b.name("pool"), []string{b.cur}, ints("kernel_shape", 2, 2), ints("strides", 2, 2))
	b.h, b.w = b.h/2, b.w/2
}

// dropout adds an opset-13 Dropout whose ratio comes from a Constant node:
// an initializer would count as a trainable parameter.
func (b *builder) dropout(ratio float32) {
	name := b.name("dropout")
	r := name + ".ratio"
	value := &onnx.TensorProto{Name: proto.String(r), DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)),
		RawData: onnx.EncodeRaw(onnx.TensorProto_FLOAT, []float32{ratio})}
	b.nodes = append(b.nodes, &onnx.NodeProto{OpType: proto.String("Constant"), Name: proto.String(r), Output: []string{r},
		Attribute: []*onnx.AttributeProto{{Name: proto.String("value"), Type: onnx.AttributeProto_TENSOR.Enum(), T: value}}})
	b.add("Dropout", name, []string{b.cur, r})
}

func (b *builder) flatten() {
	b.add("Flatten", b.name("flatten"), []string{b.cur}, intAttr("axis", 1))
	b.features = b.c * b.h * b.w
}

// dense adds a fully connected layer of n units: Gemm with the weight
// stored n×features and transposed, as PyTorch exports Linear.
func (b *builder) dense(n int) {
	name := b.name("fc")
	w := b.heNormal(name+".weight", []int64{int64(n), int64(b.features)}, b.features)
	bias := b.zeros(name+".bias", []int64{int64(n)})
	b.add("Gemm", name, []string{b.cur, w, bias}, floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1))
	b.features = n
}

// heNormal adds a weight drawn from N(0, 2/fanIn), He et al.'s
// initialisation for layers followed by ReLU.
func (b *builder) heNormal(name string, dims []int64, fanIn int) string {
	std := math.Sqrt(2 / float64(fanIn))
	v := make([]float32, numel(dims))
	for i := range v {
		v[i] = float32(b.rng.NormFloat64() * std)
	}
	return b.init(name, dims, v)
}

func (b *builder) zeros(name string, dims []int64) string {
	return b.init(name, dims, make([]float32, numel(dims)))
}

func (b *builder) init(name string, dims []int64, v []float32) string {
	b.inits = append(b.inits, &onnx.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), RawData: onnx.EncodeRaw(onnx.TensorProto_FLOAT, v)})
	return name
}

// model wraps the graph built so far, renaming the last value to the
// output's name.
func (b *builder) model(name, doc string) *onnx.ModelProto {
	last := b.nodes[len(b.nodes)-1]
	last.Output[0] = OutputName
	in := tensorType(dynamic("N"), fixed(b.input[0]), fixed(b.input[1]), fixed(b.input[2]))
	out := tensorType(dynamic("N"), fixed(b.features))
	return &onnx.ModelProto{
		IrVersion:    proto.Int64(irVersion),
		ProducerName: proto.String(producer),
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph: &onnx.GraphProto{
			Name:        proto.String(name),
			DocString:   proto.String(doc),
			Node:        b.nodes,
			Initializer: b.inits,
			Input:       []*onnx.ValueInfoProto{{Name: proto.String(InputName), Type: in}},
			Output:      []*onnx.ValueInfoProto{{Name: proto.String(OutputName), Type: out}},
		},
	}
}

func tensorType(dims ...*onnx.TensorShapeProto_Dimension) *onnx.TypeProto {
	return &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: proto.Int32(int32(onnx.TensorProto_FLOAT)), Shape: &onnx.TensorShapeProto{Dim: dims}}}}
}

func dynamic(param string) *onnx.TensorShapeProto_Dimension {
	return &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: param}}
}

func fixed(n int) *onnx.TensorShapeProto_Dimension {
	return &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(n)}}
}

func ints(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), Type: onnx.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), Type: onnx.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func floatAttr(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), Type: onnx.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func numel(dims []int64) int {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	return n
}
