package gradgraph

import (
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// builder holds the gradient graph under construction: the forward nodes
// (copies, which rules may extend, as MaxPool's with its Indices output),
// the nodes and constants the backward pass adds, and what is known of
// every value.
type builder struct {
	g       *onnx.Graph
	dir     string
	shapes  map[string][]int // static shapes, -1 on the batch axis
	forward map[*onnx.Node]*onnx.NodeProto
	nodes   []*onnx.NodeProto // loss and backward nodes
	inits   []*onnx.TensorProto
	used    map[string]bool   // value names taken
	consts  map[string]string // constants emitted, by a key naming their value
	shapeOf map[string]string
	need    map[string]bool     // values whose gradient the loss reaches the wanted leaves through
	grads   map[string][]string // gradient contributions per value
	summed  map[string]string
	spread  map[string]string // Expand outputs of expandBatch, by name: their input
	tiles   map[string]tile   // Pads of Slices' gradients, by name (slicetiles.go)
	sites   []site            // parts with a blocked form (nchwc.go)
	convs   []chainConv       // forward Convs blocked chains can take (nchwcchain.go)
	// The forward graph's index (indexNodes): each value's producer, how
	// many node inputs read it, the graph outputs.
	producers map[string]*onnx.Node
	reads     map[string]int
	outputs   map[string]bool
	n         int
}

// fresh returns an unused value name built from hint.
func (b *builder) fresh(hint string) string {
	for {
		b.n++
		name := "grad/" + hint + "/" + strconv.Itoa(b.n)
		if !b.used[name] {
			b.used[name] = true
			return name
		}
	}
}

// op appends a node with one output and returns that output's name.
func (b *builder) op(opType string, ins []string, attrs ...*onnx.AttributeProto) string {
	return b.opN(opType, ins, 1, attrs...)[0]
}

// opN appends a node with nout outputs.
func (b *builder) opN(opType string, ins []string, nout int, attrs ...*onnx.AttributeProto) []string {
	outs := make([]string, nout)
	for i := range outs {
		outs[i] = b.fresh(opType)
	}
	b.nodes = append(b.nodes, &onnx.NodeProto{OpType: proto.String(opType), Name: proto.String(outs[0]),
		Input: slices.Clone(ins), Output: outs, Attribute: attrs})
	return outs
}

// int64s returns an int64 1-D constant, one per distinct value.
func (b *builder) int64s(vals ...int64) string {
	key := fmt.Sprint(vals)
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := b.fresh("const")
	b.inits = append(b.inits, int64Tensor(name, []int64{int64(len(vals))}, vals))
	b.consts[key] = name
	return name
}

// int64Tensor is an int64 constant of the given dims (nil: a scalar).
func int64Tensor(name string, dims, vals []int64) *onnx.TensorProto {
	return &onnx.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: slices.Clone(vals)}
}

// scalar returns a float32 scalar constant.
func (b *builder) scalar(v float32) string {
	return b.floats(nil, []float32{v})
}

// floats returns a float32 constant of the given dims.
func (b *builder) floats(dims []int64, data []float32) string {
	name := b.fresh("const")
	b.inits = append(b.inits, &onnx.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: data})
	return name
}

// shape returns the static shape of a value, -1 on axes that follow the batch.
func (b *builder) shape(name string) ([]int, error) {
	s, ok := b.shapes[name]
	if !ok {
		return nil, fmt.Errorf("no shape known for %q", name)
	}
	return s, nil
}

// shapeTensor returns an int64 tensor holding name's shape: a constant when
// it is static, else a Shape node read at run time.
func (b *builder) shapeTensor(name string) string {
	if s, ok := b.shapeOf[name]; ok {
		return s
	}
	var out string
	if st, ok := b.shapes[name]; ok && !slices.Contains(st, -1) {
		out = b.int64s(dims64(st, 0)...)
	} else {
		out = b.op("Shape", []string{name})
	}
	b.shapeOf[name] = out
	return out
}

// reshapeLike reshapes g to the shape of the value like. Where like has one
// dynamic axis the target is a constant with -1 there: a Shape node would
// keep like, a forward value, alive until the backward half reads it.
func (b *builder) reshapeLike(g, like string) string {
	if st, ok := b.shapes[like]; ok && len(st) > 0 && countOf(st, -1) == 1 {
		return b.op("Reshape", []string{g, b.int64s(dims64(st, -1)...)})
	}
	return b.op("Reshape", []string{g, b.shapeTensor(like)})
}

// reshapeBatch reshapes g, of shape gs, to the shape of like. Where both
// are a dynamic batch followed by static axes holding as many values, the
// target is a constant with 0 (keep g's axis) for the batch: the graph's
// shape inference then carries the batch's name on, which ONNX Runtime's
// NCHWc layout pass needs to keep the element-wise nodes of the backward
// pass in its blocked layout (it reorders to NCHW and back whenever it
// cannot prove two operands' shapes equal).
func (b *builder) reshapeBatch(g string, gs []int, like string) string {
	if dims, ok := b.batchDims(like, 0); ok && len(gs) > 0 && gs[0] == -1 && !slices.Contains(gs[1:], -1) && prod64(gs[1:]) == prod64(dims[1:]) {
		return b.op("Reshape", []string{g, b.int64s(dims...)})
	}
	return b.reshapeLike(g, like)
}

// expandBatch broadcasts g, whose first axis is the batch of like or 1, to
// like's shape: a constant target with 1 for a dynamic batch where like's
// other axes are static (see reshapeBatch), else like's shape read at run
// time. Where the result is one of several gradient contributions, gradOf
// adds g by broadcasting instead and drops the Expand.
func (b *builder) expandBatch(g, like string) string {
	var shape string
	if dims, ok := b.batchDims(like, 1); ok {
		shape = b.int64s(dims...)
	} else {
		shape = b.shapeTensor(like)
	}
	out := b.op("Expand", []string{g, shape})
	b.spread[out] = g
	return out
}

// batchDims returns like's shape with batch in place of a dynamic first
// axis, if that is its only dynamic one.
func (b *builder) batchDims(like string, batch int64) ([]int64, bool) {
	s, ok := b.shapes[like]
	if !ok || len(s) == 0 || s[0] != -1 || slices.Contains(s[1:], -1) {
		return nil, false
	}
	return dims64(s, batch), true
}

func prod64[T int | int64](s []T) int64 {
	p := int64(1)
	for _, d := range s {
		p *= int64(d)
	}
	return p
}

// dims64 returns a static shape as int64s, dyn in place of dynamic axes.
func dims64(st []int, dyn int64) []int64 {
	dims := make([]int64, len(st))
	for i, d := range st {
		dims[i] = int64(d)
		if d < 0 {
			dims[i] = dyn
		}
	}
	return dims
}

func countOf(s []int, v int) int {
	n := 0
	for _, d := range s {
		if d == v {
			n++
		}
	}
	return n
}

// sumTo reduces g, the gradient of a broadcast result of shape out, to the
// shape of operand x: the sum over the axes x was broadcast along.
func (b *builder) sumTo(g, out, x string) (string, error) {
	ys, err := b.shape(out)
	if err != nil {
		return "", err
	}
	xs, err := b.shape(x)
	if err != nil {
		return "", err
	}
	return b.sumToShapes(g, ys, xs, x), nil
}

func (b *builder) sumToShapes(g string, ys, xs []int, x string) string {
	lead := len(ys) - len(xs)
	var axes []int64
	for i := range ys {
		if i < lead || xs[i-lead] == 1 && ys[i] != 1 {
			axes = append(axes, int64(i))
		}
	}
	if len(axes) == 0 && lead == 0 {
		return g
	}
	if len(axes) > 0 {
		g = b.op("ReduceSum", []string{g, b.int64s(axes...)}, aInt("keepdims", 1))
	}
	if lead == 0 && len(ys) > 0 && ys[0] == -1 {
		gs := slices.Clone(ys)
		for _, a := range axes {
			gs[a] = 1
		}
		return b.reshapeBatch(g, gs, x)
	}
	return b.reshapeLike(g, x)
}

// constTensor returns the value of an input that is an initializer or a
// Constant node's output.
func (b *builder) constTensor(name string) (*onnx.Tensor, bool) {
	if t, ok, err := b.g.Initializer(name); ok {
		return t, err == nil
	}
	if n := b.producer(name); n != nil && n.OpType == "Constant" && len(n.Outputs) == 1 {
		t, err := n.Tensor("value", b.dir)
		return t, err == nil && t != nil
	}
	return nil, false
}

// constInts returns the value of an integer input that is an initializer
// or a Constant node's output.
func (b *builder) constInts(name string) ([]int64, bool) {
	if t, ok := b.constTensor(name); ok && !t.IsFloat() {
		return t.Int, true
	}
	return nil, false
}

func aInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), Type: onnx.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func aInts(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), Type: onnx.AttributeProto_INTS.Enum(), Ints: v}
}

func aFloat(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), Type: onnx.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func aStr(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), Type: onnx.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// int64s0 returns an int64 scalar constant.
func (b *builder) int64s0(v int64) string {
	key := fmt.Sprint("scalar", v)
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := b.fresh("const")
	b.inits = append(b.inits, int64Tensor(name, nil, []int64{v}))
	b.consts[key] = name
	return name
}

// constFloats returns the value of a float input that is an initializer
// or a Constant node's output.
func (b *builder) constFloats(name string) ([]float32, bool) {
	if t, ok := b.constTensor(name); ok && t.IsFloat() {
		return t.Float, true
	}
	return nil, false
}
