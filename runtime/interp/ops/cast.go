package ops

import (
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/x448/float16"
)

func init() {
	register("Cast", 1, newCast(true))  // `to` names the type as a string
	register("Cast", 6, newCast(false)) // `to` is the TensorProto data type number
}

// cast converts between the interpreter's two storage kinds. Floating-point
// targets land in Data, float16 and bfloat16 rounded to their precision and
// double kept at float32's; integer and bool targets land in Ints, wrapped
// to their width as C casts do, with floats truncated toward zero.
type cast struct{ to onnx.TensorProto_DataType }

func newCast(named bool) constructor {
	return func(n *Node) (Op, error) {
		var to onnx.TensorProto_DataType
		if named {
			name, err := n.Str("to", "")
			if err != nil {
				return nil, err
			}
			v, ok := onnx.TensorProto_DataType_value[name]
			if !ok {
				return nil, fmt.Errorf("%w: Cast to %q", ErrUnsupported, name)
			}
			to = onnx.TensorProto_DataType(v)
		} else {
			if !n.Has("to") {
				return nil, fmt.Errorf("attribute \"to\" is missing")
			}
			v, err := n.Int("to", 0)
			if err != nil {
				return nil, err
			}
			if v < 1 || v > 255 { // newer ONNX releases add types (float8 is 17); past 255 none will be
				return nil, fmt.Errorf("%w: to=%d is no ONNX data type", onnx.ErrInvalid, v)
			}
			to = onnx.TensorProto_DataType(v)
		}
		switch to {
		case onnx.TensorProto_FLOAT, onnx.TensorProto_DOUBLE, onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16,
			onnx.TensorProto_INT8, onnx.TensorProto_INT16, onnx.TensorProto_INT32, onnx.TensorProto_INT64,
			onnx.TensorProto_UINT8, onnx.TensorProto_UINT16, onnx.TensorProto_UINT32, onnx.TensorProto_UINT64,
			onnx.TensorProto_BOOL:
			return cast{to}, nil
		}
		return nil, fmt.Errorf("%w: Cast to %v (data type %d)", ErrUnsupported, to, int32(to))
	}
}

func (c cast) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	x := in[0]
	shape := append([]int(nil), x.Shape...)
	s.SetAux(false)
	switch c.to {
	case onnx.TensorProto_FLOAT, onnx.TensorProto_DOUBLE, onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16:
		if !x.IsInt() || quantized(x) {
			s.SetAux(true) // float to float, and quantized values, pass gradients straight through
		}
		if !x.IsInt() && (c.to == onnx.TensorProto_FLOAT || c.to == onnx.TensorProto_DOUBLE) {
			return []*Tensor{x}, nil
		}
		y := NewFloat(shape...)
		if x.IsInt() {
			for i, v := range x.Ints {
				y.Data[i] = float32(v)
			}
		} else {
			copy(y.Data, x.Data)
		}
		switch c.to {
		case onnx.TensorProto_FLOAT16:
			for i, v := range y.Data {
				y.Data[i] = float16.Fromfloat32(v).Float32()
			}
		case onnx.TensorProto_BFLOAT16:
			for i, v := range y.Data {
				y.Data[i] = roundBFloat16(v)
			}
		}
		return []*Tensor{y}, nil
	}
	y := NewInts(shape, make([]int64, x.Len()))
	if x.IsInt() {
		copy(y.Ints, x.Ints)
	} else {
		for i, v := range x.Data {
			y.Ints[i] = truncInt64(v)
		}
	}
	wrap := func(f func(int64) int64) {
		for i, v := range y.Ints {
			y.Ints[i] = f(v)
		}
	}
	switch c.to {
	case onnx.TensorProto_INT8:
		wrap(func(v int64) int64 { return int64(int8(v)) })
	case onnx.TensorProto_INT16:
		wrap(func(v int64) int64 { return int64(int16(v)) })
	case onnx.TensorProto_INT32:
		wrap(func(v int64) int64 { return int64(int32(v)) })
	case onnx.TensorProto_UINT8:
		wrap(func(v int64) int64 { return int64(uint8(v)) })
	case onnx.TensorProto_UINT16:
		wrap(func(v int64) int64 { return int64(uint16(v)) })
	case onnx.TensorProto_UINT32:
		wrap(func(v int64) int64 { return int64(uint32(v)) })
	case onnx.TensorProto_BOOL:
		if !x.IsInt() { // 0.5 is true although it truncates to 0
			for i, v := range x.Data {
				y.Ints[i] = 0
				if v != 0 {
					y.Ints[i] = 1
				}
			}
			break
		}
		wrap(func(v int64) int64 {
			if v != 0 {
				return 1
			}
			return 0
		})
	}
	return []*Tensor{y}, nil
}

// truncInt64 truncates toward zero, mapping NaN to 0 and saturating at
// int64's range, where Go's conversion would be implementation-defined.
func truncInt64(v float32) int64 {
	switch {
	case v != v:
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return int64(v)
}

// roundBFloat16 rounds to bfloat16's 8-bit significand, to nearest even.
func roundBFloat16(v float32) float32 {
	if v != v {
		return v
	}
	b := math.Float32bits(v)
	b += 0x7fff + (b>>16)&1
	return math.Float32frombits(b &^ 0xffff)
}

func (c cast) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if through, _ := s.Aux().(bool); through {
		return []*Tensor{dy[0]}, nil
	}
	return []*Tensor{nil}, nil
}
