// Package mutate makes malformed variants of real ONNX models for the
// tests that check onnxguard survives hostile files: each integer
// attribute of each node set to values no exporter writes, and inputs
// declared absurdly large. It is imported only by _test files.
package mutate

import (
	"fmt"
	"math"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// Values are what every integer attribute is set to in turn: zero,
// negative, very negative, past int32, near the end of int64.
var Values = []int64{0, -1, -1000, 1 << 31, 1 << 62}

// FloatValues are what every FLOAT attribute is set to in turn.
var FloatValues = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -1, 1e30}

// Attr is one integer attribute value of one node set to Value, or, with
// IsFloat, one FLOAT attribute set to Float.
type Attr struct {
	Node    int    // index in the graph's node list
	OpType  string // the node's operator, for messages
	Name    string // attribute name
	Elem    int    // element of an INTS attribute, -1 for an INT
	Value   int64
	IsFloat bool
	Float   float32
}

func (a Attr) String() string {
	if a.IsFloat {
		return fmt.Sprintf("node %d (%s) %s=%g", a.Node, a.OpType, a.Name, a.Float)
	}
	if a.Elem < 0 {
		return fmt.Sprintf("node %d (%s) %s=%d", a.Node, a.OpType, a.Name, a.Value)
	}
	return fmt.Sprintf("node %d (%s) %s[%d]=%d", a.Node, a.OpType, a.Name, a.Elem, a.Value)
}

// Attrs lists every mutation of every integer attribute of mp, each
// element of an INTS attribute on its own, to each of Values.
func Attrs(mp *onnx.ModelProto) []Attr {
	var out []Attr
	for i, n := range mp.GetGraph().GetNode() {
		for _, a := range n.GetAttribute() {
			elems := []int{-1}
			switch a.GetType() {
			case onnx.AttributeProto_INT:
			case onnx.AttributeProto_INTS:
				elems = elems[:0]
				for j := range a.GetInts() {
					elems = append(elems, j)
				}
			default:
				continue
			}
			for _, e := range elems {
				for _, v := range Values {
					out = append(out, Attr{Node: i, OpType: n.GetOpType(), Name: a.GetName(), Elem: e, Value: v})
				}
			}
		}
	}
	return out
}

// FloatAttrs lists every mutation of every FLOAT attribute of mp to each
// of FloatValues.
func FloatAttrs(mp *onnx.ModelProto) []Attr {
	var out []Attr
	for i, n := range mp.GetGraph().GetNode() {
		for _, a := range n.GetAttribute() {
			if a.GetType() == onnx.AttributeProto_FLOAT {
				for _, v := range FloatValues {
					out = append(out, Attr{Node: i, OpType: n.GetOpType(), Name: a.GetName(), Elem: -1, IsFloat: true, Float: v})
				}
			}
		}
	}
	return out
}

// Apply returns a copy of mp with the mutation made.
func (a Attr) Apply(mp *onnx.ModelProto) *onnx.ModelProto {
	c := proto.Clone(mp).(*onnx.ModelProto)
	for _, at := range c.GetGraph().GetNode()[a.Node].GetAttribute() {
		if at.GetName() != a.Name {
			continue
		}
		switch {
		case a.IsFloat:
			at.F = proto.Float32(a.Float)
		case a.Elem < 0:
			at.I = proto.Int64(a.Value)
		default:
			at.Ints[a.Elem] = a.Value
		}
	}
	return c
}

// Find returns the mutation of the first node of type op setting
// attribute name (element elem, -1 for an INT) to value; ok is false when
// mp has no such attribute.
func Find(mp *onnx.ModelProto, op, name string, elem int, value int64) (a Attr, ok bool) {
	for i, n := range mp.GetGraph().GetNode() {
		if n.GetOpType() != op {
			continue
		}
		for _, at := range n.GetAttribute() {
			if at.GetName() == name && (elem < 0 || elem < len(at.GetInts())) {
				return Attr{Node: i, OpType: op, Name: name, Elem: elem, Value: value}, true
			}
		}
	}
	return Attr{}, false
}

// InputDims returns a copy of mp whose first graph input declares dims.
func InputDims(mp *onnx.ModelProto, dims ...int64) *onnx.ModelProto {
	c := proto.Clone(mp).(*onnx.ModelProto)
	shape := c.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape()
	shape.Dim = shape.Dim[:0]
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return c
}

// ExternalData returns a copy of mp whose initializers keep their bytes in
// an external file at location (relative to the model's folder), and
// those bytes, to be written there.
func ExternalData(mp *onnx.ModelProto, location string) (*onnx.ModelProto, []byte) {
	c := proto.Clone(mp).(*onnx.ModelProto)
	var blob []byte
	for _, tp := range c.GetGraph().GetInitializer() {
		raw := tp.GetRawData()
		if raw == nil {
			if dt := onnx.TensorProto_DataType(tp.GetDataType()); dt != onnx.TensorProto_FLOAT || len(tp.GetFloatData()) == 0 {
				continue
			}
			raw = onnx.EncodeRaw(onnx.TensorProto_FLOAT, tp.GetFloatData())
			tp.FloatData = nil
		}
		offset := len(blob)
		blob = append(blob, raw...)
		tp.RawData = nil
		tp.DataLocation = onnx.TensorProto_EXTERNAL.Enum()
		tp.ExternalData = []*onnx.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String(location)},
			{Key: proto.String("offset"), Value: proto.String(strconv.Itoa(offset))},
			{Key: proto.String("length"), Value: proto.String(strconv.Itoa(len(raw)))},
		}
	}
	return c, blob
}

// A Subject is a model an attribute fuzzer mutates: its integer
// attributes (Attrs).
type Subject struct {
	Model *onnx.Model
	Attrs []Attr
}

// NewSubject returns m as a Subject; ok is false where m has no integer
// attribute to set.
func NewSubject(m *onnx.Model) (Subject, bool) {
	s := Subject{Model: m, Attrs: Attrs(m.Proto)}
	return s, len(s.Attrs) > 0
}

// Seed adds every stride-th attribute of each subject, at the value the
// model has, to f's corpus as the arguments Pick takes.
func Seed(f *testing.F, subjects []Subject, stride int) {
	for i, s := range subjects {
		for j := 0; j < len(s.Attrs); j += stride {
			f.Add(uint16(i), uint16(j), s.Attrs[j].Value)
		}
	}
}

// Pick returns the subject which picks (modulo their number), the model
// with its attribute index (modulo theirs) set to value, and that
// attribute, for the messages.
func Pick(subjects []Subject, which, index uint16, value int64) (int, *onnx.Model, Attr) {
	i := int(which) % len(subjects)
	s := subjects[i]
	a := s.Attrs[int(index)%len(s.Attrs)]
	a.Value = value
	return i, &onnx.Model{Proto: a.Apply(s.Model.Proto), Dir: s.Model.Dir}, a
}
