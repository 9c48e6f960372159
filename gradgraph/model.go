package gradgraph

import (
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/onnxguard/onnxguard/onnx"
)

// model assembles the gradient graph's ModelProto.
func (b *builder) model(m *onnx.Model, fwd []*onnx.NodeProto, gr *Graph) (*onnx.Model, error) {
	src := m.Proto
	gp := src.GetGraph()
	floatT := func(name string, dims ...int64) *onnx.ValueInfoProto {
		return valueInfo(name, onnx.TensorProto_FLOAT, dims)
	}
	fed := map[string]bool{} // the weights that become inputs
	if gr.Fed {
		for _, name := range gr.Params {
			fed[name] = true
		}
	}
	var ins []*onnx.ValueInfoProto
	for _, vi := range gp.GetInput() {
		// Below IR version 4 initializers are listed as inputs too.
		if !fed[vi.GetName()] {
			ins = append(ins, proto.Clone(vi).(*onnx.ValueInfoProto))
		}
	}
	ins = append(ins, valueInfo(gr.Labels, onnx.TensorProto_INT64, []int64{int64(-1)}))
	var kept []*onnx.TensorProto
	dims := map[string][]int64{} // of the fed weights
	for _, t := range gp.GetInitializer() {
		if fed[t.GetName()] {
			dims[t.GetName()] = t.GetDims()
		} else {
			kept = append(kept, t)
		}
	}
	inits := ownInitializers(kept)
	if gr.Fed {
		for _, name := range gr.Params {
			ins = append(ins, valueInfo(name, onnx.TensorProto_FLOAT, append([]int64{}, dims[name]...)))
		}
	}
	outs := []*onnx.ValueInfoProto{floatT(gr.Logits), floatT(gr.Loss), floatT(gr.InputGrad)}
	for _, name := range gr.ParamGrads {
		outs = append(outs, floatT(name))
	}
	for _, vi := range gp.GetOutput() {
		if vi.GetName() != gr.Logits {
			outs = append(outs, proto.Clone(vi).(*onnx.ValueInfoProto))
		}
	}
	graph := &onnx.GraphProto{Name: proto.String(gp.GetName() + "_grad"), Node: slices.Concat(fwd, b.nodes),
		Initializer: slices.Concat(inits, b.inits), Input: ins, Output: outs,
		ValueInfo: gp.GetValueInfo()}
	var opsets []*onnx.OperatorSetIdProto
	for _, o := range src.GetOpsetImport() {
		o = proto.Clone(o).(*onnx.OperatorSetIdProto)
		if d := o.GetDomain(); (d == "" || d == "ai.onnx") && o.GetVersion() < emitOpset {
			o.Version = proto.Int64(emitOpset)
		}
		opsets = append(opsets, o)
	}
	mp := &onnx.ModelProto{IrVersion: proto.Int64(max(src.GetIrVersion(), 8)), OpsetImport: opsets,
		ProducerName: proto.String("onnxguard gradgraph"), Graph: graph, MetadataProps: src.GetMetadataProps()}
	// The graph is kept decoded, not encoded: its bytes would hold a third
	// copy of the weights for as long as the engine lives (ViT-B/16: 330 MB
	// beside the file's bytes and the interpreter's floats). Each session
	// encodes it when it opens.
	return &onnx.Model{Proto: mp, Dir: m.Dir}, nil
}

// ownInitializers returns shallow copies of inits, sharing their raw data
// and other field values, so that the graph keeps the weights it was built
// with when the source model's initializers are replaced later (as export
// replaces them), at the cost of their structure alone: no byte is copied
// and the source is not touched.
func ownInitializers(inits []*onnx.TensorProto) []*onnx.TensorProto {
	out := make([]*onnx.TensorProto, len(inits))
	for i, t := range inits {
		c := &onnx.TensorProto{}
		dst := c.ProtoReflect()
		t.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			dst.Set(fd, v)
			return true
		})
		out[i] = c
	}
	return out
}

func valueInfo(name string, t onnx.TensorProto_DataType, dims []int64) *onnx.ValueInfoProto {
	tt := &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(t))}
	if dims != nil {
		tt.Shape = &onnx.TensorShapeProto{}
		for _, d := range dims {
			dim := &onnx.TensorShapeProto_Dimension{}
			if d < 0 {
				dim.Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
			} else {
				dim.Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}
			}
			tt.Shape.Dim = append(tt.Shape.Dim, dim)
		}
	}
	return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: tt}}}
}
