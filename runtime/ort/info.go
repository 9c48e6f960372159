//go:build cgo

package ort

import (
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/onnx"
)

func describe(ts []TensorInfo) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}

func cloneInfos(ts []TensorInfo) []TensorInfo {
	c := make([]TensorInfo, len(ts))
	for i, t := range ts {
		c[i] = TensorInfo{Name: t.Name, Shape: append([]int64(nil), t.Shape...), Type: t.Type}
	}
	return c
}

// signature reads the model's inputs and outputs from the ONNX graph
// itself: a parse in Go, where asking ONNX Runtime would build a whole
// throwaway session first.
//
// It also runs set's check, within set's budget, so that ONNX Runtime is
// handed no model that might crash it.
func (m model) signature(set settings) (ins, outs []TensorInfo, err error) {
	var om *onnx.Model
	if m.path != "" {
		om, err = onnx.Load(m.path)
	} else {
		om, err = onnx.Parse(m.data, "")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ort: loading %s: %w", m.name, err)
	}
	g, err := om.Graph()
	if err != nil {
		return nil, nil, fmt.Errorf("ort: loading %s: %w", m.name, err)
	}
	if err := set.check(om, set.budget); err != nil {
		return nil, nil, fmt.Errorf("ort: %s: %w", m.name, err)
	}
	return tensorInfos(g.Inputs), tensorInfos(g.Outputs), nil
}

func tensorInfos(vs []onnx.ValueInfo) []TensorInfo {
	ts := make([]TensorInfo, len(vs))
	for i, v := range vs {
		ts[i] = TensorInfo{Name: v.Name, Type: typeName(v.ElemType), Shape: append([]int64{}, v.Shape...)}
	}
	return ts
}

// typeName spells an element type as NumPy does, which is how the rest of
// onnxguard and its users name them.
func typeName(t onnx.TensorProto_DataType) string {
	if name, ok := elementTypes[t]; ok {
		return name
	}
	if t == onnx.TensorProto_UNDEFINED {
		return "non-tensor"
	}
	return strings.ToLower(t.String())
}

var elementTypes = map[onnx.TensorProto_DataType]string{
	onnx.TensorProto_FLOAT:   "float32",
	onnx.TensorProto_DOUBLE:  "float64",
	onnx.TensorProto_FLOAT16: "float16",
	onnx.TensorProto_BOOL:    "bool",
}
