//go:build cgo

package ort

import (
	"strings"

	ortgo "github.com/yalue/onnxruntime_go"
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

func tensorInfos(in []ortgo.InputOutputInfo) []TensorInfo {
	ts := make([]TensorInfo, len(in))
	for i, v := range in {
		ts[i] = TensorInfo{Name: v.Name, Type: typeName(v)}
		if v.OrtValueType == ortgo.ONNXTypeTensor || v.OrtValueType == ortgo.ONNXTypeSparseTensor {
			ts[i].Shape = make([]int64, len(v.Dimensions))
			for j, d := range v.Dimensions {
				ts[i].Shape[j] = max(d, -1)
			}
		}
	}
	return ts
}

// typeName spells an element type as NumPy does, which is how the rest of
// onnxguard and its users name them.
func typeName(v ortgo.InputOutputInfo) string {
	switch v.OrtValueType {
	case ortgo.ONNXTypeTensor:
	case ortgo.ONNXTypeSparseTensor:
		return "sparse tensor"
	case ortgo.ONNXTypeSequence:
		return "sequence"
	case ortgo.ONNXTypeMap:
		return "map"
	case ortgo.ONNXTypeOptional:
		return "optional"
	case ortgo.ONNXTypeOpaque:
		return "opaque"
	default:
		return "unknown"
	}
	if name, ok := elementTypes[v.DataType]; ok {
		return name
	}
	return v.DataType.String()
}

var elementTypes = map[ortgo.TensorElementDataType]string{
	ortgo.TensorElementDataTypeFloat:      "float32",
	ortgo.TensorElementDataTypeUint8:      "uint8",
	ortgo.TensorElementDataTypeInt8:       "int8",
	ortgo.TensorElementDataTypeUint16:     "uint16",
	ortgo.TensorElementDataTypeInt16:      "int16",
	ortgo.TensorElementDataTypeInt32:      "int32",
	ortgo.TensorElementDataTypeInt64:      "int64",
	ortgo.TensorElementDataTypeString:     "string",
	ortgo.TensorElementDataTypeBool:       "bool",
	ortgo.TensorElementDataTypeFloat16:    "float16",
	ortgo.TensorElementDataTypeDouble:     "float64",
	ortgo.TensorElementDataTypeUint32:     "uint32",
	ortgo.TensorElementDataTypeUint64:     "uint64",
	ortgo.TensorElementDataTypeComplex64:  "complex64",
	ortgo.TensorElementDataTypeComplex128: "complex128",
	ortgo.TensorElementDataTypeBFloat16:   "bfloat16",
}
