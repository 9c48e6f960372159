package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// Tensor is a decoded TensorProto. Floating-point types (float32, float16,
// bfloat16, double) decode to Float as float32; integer and bool types
// decode to Int.
type Tensor struct {
	Name     string
	Dims     []int64
	DataType TensorProto_DataType
	Float    []float32
	Int      []int64
}

// IsFloat reports whether the tensor holds floating-point values.
func (t *Tensor) IsFloat() bool { return isFloatType(t.DataType) }

// Len returns the number of elements the dims describe.
func (t *Tensor) Len() int { return numElements(t.Dims) }

func numElements(dims []int64) int {
	n, _ := elements(dims)
	return n
}

// maxTensorElems bounds a tensor's declared size: far past any real
// model's (2^40 floats are 4 TiB), and small enough that a size in bytes
// cannot overflow.
const maxTensorElems = 1 << 40

// elements returns the element count of dims, false when a dimension is
// negative or the count (or the product of the non-zero dimensions, which
// later shape arithmetic multiplies) passes maxTensorElems.
func elements(dims []int64) (int, bool) {
	n, nonzero := int64(1), int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		if nonzero > maxTensorElems/d {
			return 0, false
		}
		nonzero *= d
		n *= d
	}
	return int(n), true
}

func isFloatType(dt TensorProto_DataType) bool {
	switch dt {
	case TensorProto_FLOAT, TensorProto_FLOAT16, TensorProto_BFLOAT16, TensorProto_DOUBLE:
		return true
	}
	return false
}

// elemSize is the width in bytes of one element in raw_data, 0 when the
// type is not one onnxguard decodes.
func elemSize(dt TensorProto_DataType) int {
	switch dt {
	case TensorProto_FLOAT, TensorProto_INT32, TensorProto_UINT32:
		return 4
	case TensorProto_DOUBLE, TensorProto_INT64, TensorProto_UINT64:
		return 8
	case TensorProto_FLOAT16, TensorProto_BFLOAT16, TensorProto_INT16, TensorProto_UINT16:
		return 2
	case TensorProto_INT8, TensorProto_UINT8, TensorProto_BOOL:
		return 1
	}
	return 0
}

// DecodeTensor decodes tp. dir is the folder external data is relative to.
func DecodeTensor(tp *TensorProto, dir string) (*Tensor, error) {
	dt := TensorProto_DataType(tp.GetDataType())
	t := &Tensor{Name: tp.GetName(), Dims: append([]int64(nil), tp.GetDims()...), DataType: dt}
	for i, d := range t.Dims {
		if d < 0 {
			return nil, fmt.Errorf("%w: tensor %q: dimension %d is %d", ErrInvalid, t.Name, i, d)
		}
	}
	if _, ok := elements(t.Dims); !ok {
		return nil, fmt.Errorf("%w: tensor %q: dims %v describe more than 2^40 elements", ErrInvalid, t.Name, t.Dims)
	}
	if tp.GetSegment() != nil {
		return nil, fmt.Errorf("%w: tensor %q is segmented", ErrUnsupported, t.Name)
	}
	size := elemSize(dt)
	if size == 0 {
		return nil, fmt.Errorf("%w: tensor %q has data type %v; onnxguard reads float32, float16, bfloat16, double, integer and bool tensors", ErrUnsupported, t.Name, dt)
	}
	n := t.Len()
	raw := tp.GetRawData()
	if tp.GetDataLocation() == TensorProto_EXTERNAL {
		var err error
		if raw, err = readExternal(tp, dir); err != nil {
			return nil, err
		}
	}
	if raw != nil || tp.GetDataLocation() == TensorProto_EXTERNAL {
		if len(raw) != n*size {
			return nil, fmt.Errorf("%w: tensor %q: %d bytes of data for %d elements of %v (want %d bytes)", ErrInvalid, t.Name, len(raw), n, dt, n*size)
		}
		decodeRaw(t, raw, n)
		return t, nil
	}
	return t, decodeTyped(t, tp, n)
}

func decodeRaw(t *Tensor, raw []byte, n int) {
	le := binary.LittleEndian
	if t.IsFloat() {
		t.Float = make([]float32, n)
	} else {
		t.Int = make([]int64, n)
	}
	for i := 0; i < n; i++ {
		switch t.DataType {
		case TensorProto_FLOAT:
			t.Float[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		case TensorProto_DOUBLE:
			t.Float[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		case TensorProto_FLOAT16:
			t.Float[i] = float16.Frombits(le.Uint16(raw[2*i:])).Float32()
		case TensorProto_BFLOAT16:
			t.Float[i] = math.Float32frombits(uint32(le.Uint16(raw[2*i:])) << 16)
		case TensorProto_INT64:
			t.Int[i] = int64(le.Uint64(raw[8*i:]))
		case TensorProto_UINT64:
			t.Int[i] = int64(le.Uint64(raw[8*i:]))
		case TensorProto_INT32:
			t.Int[i] = int64(int32(le.Uint32(raw[4*i:])))
		case TensorProto_UINT32:
			t.Int[i] = int64(le.Uint32(raw[4*i:]))
		case TensorProto_INT16:
			t.Int[i] = int64(int16(le.Uint16(raw[2*i:])))
		case TensorProto_UINT16:
			t.Int[i] = int64(le.Uint16(raw[2*i:]))
		case TensorProto_INT8:
			t.Int[i] = int64(int8(raw[i]))
		case TensorProto_UINT8, TensorProto_BOOL:
			t.Int[i] = int64(raw[i])
		}
	}
}

// decodeTyped reads the typed repeated fields: float_data, double_data,
// int64_data, uint64_data, and int32_data, which also carries the 16-bit
// patterns of float16 and bfloat16.
func decodeTyped(t *Tensor, tp *TensorProto, n int) error {
	got := 0
	switch t.DataType {
	case TensorProto_FLOAT:
		t.Float, got = append([]float32(nil), tp.GetFloatData()...), len(tp.GetFloatData())
	case TensorProto_DOUBLE:
		d := tp.GetDoubleData()
		t.Float, got = make([]float32, len(d)), len(d)
		for i, v := range d {
			t.Float[i] = float32(v)
		}
	case TensorProto_FLOAT16, TensorProto_BFLOAT16:
		d := tp.GetInt32Data()
		t.Float, got = make([]float32, len(d)), len(d)
		for i, v := range d {
			if t.DataType == TensorProto_FLOAT16 {
				t.Float[i] = float16.Frombits(uint16(v)).Float32()
			} else {
				t.Float[i] = math.Float32frombits(uint32(uint16(v)) << 16)
			}
		}
	case TensorProto_INT64:
		t.Int, got = append([]int64(nil), tp.GetInt64Data()...), len(tp.GetInt64Data())
	case TensorProto_UINT64, TensorProto_UINT32:
		d := tp.GetUint64Data()
		t.Int, got = make([]int64, len(d)), len(d)
		for i, v := range d {
			t.Int[i] = int64(v)
		}
	default: // int32, int16, uint16, int8, uint8, bool
		d := tp.GetInt32Data()
		t.Int, got = make([]int64, len(d)), len(d)
		for i, v := range d {
			t.Int[i] = int64(v)
		}
	}
	if got != n {
		return fmt.Errorf("%w: tensor %q: %d values for dims %v (%d elements)", ErrInvalid, t.Name, got, t.Dims, n)
	}
	return nil
}

// EncodeFloat stores data into tp in the storage form tp already uses:
// raw_data or the typed field, with tp's data type (float32, float16,
// bfloat16 or double). External tensors get their bytes back in raw form
// for the caller to write out; see EncodeRaw.
func EncodeFloat(tp *TensorProto, data []float32) error {
	dt := TensorProto_DataType(tp.GetDataType())
	if !isFloatType(dt) {
		return fmt.Errorf("%w: tensor %q has data type %v, not a floating-point type", ErrUnsupported, tp.GetName(), dt)
	}
	if n := numElements(tp.GetDims()); n != len(data) {
		return fmt.Errorf("tensor %q: %d values for dims %v (%d elements)", tp.GetName(), len(data), tp.GetDims(), n)
	}
	if tp.RawData != nil || tp.GetDataLocation() == TensorProto_EXTERNAL {
		if tp.GetDataLocation() != TensorProto_EXTERNAL {
			tp.RawData = EncodeRaw(dt, data)
		}
		return nil
	}
	switch dt {
	case TensorProto_FLOAT:
		tp.FloatData = append(tp.FloatData[:0], data...)
	case TensorProto_DOUBLE:
		tp.DoubleData = tp.DoubleData[:0]
		for _, v := range data {
			tp.DoubleData = append(tp.DoubleData, float64(v))
		}
	case TensorProto_FLOAT16, TensorProto_BFLOAT16:
		tp.Int32Data = tp.Int32Data[:0]
		for _, v := range data {
			tp.Int32Data = append(tp.Int32Data, int32(halfBits(dt, v)))
		}
	}
	return nil
}

// EncodeRaw returns data as little-endian raw bytes of type dt.
func EncodeRaw(dt TensorProto_DataType, data []float32) []byte {
	size := elemSize(dt)
	out := make([]byte, size*len(data))
	le := binary.LittleEndian
	for i, v := range data {
		switch dt {
		case TensorProto_FLOAT:
			le.PutUint32(out[4*i:], math.Float32bits(v))
		case TensorProto_DOUBLE:
			le.PutUint64(out[8*i:], math.Float64bits(float64(v)))
		case TensorProto_FLOAT16, TensorProto_BFLOAT16:
			le.PutUint16(out[2*i:], halfBits(dt, v))
		}
	}
	return out
}

func halfBits(dt TensorProto_DataType, v float32) uint16 {
	if dt == TensorProto_FLOAT16 {
		return float16.Fromfloat32(v).Bits()
	}
	// bfloat16: round to nearest even on the dropped 16 bits.
	b := math.Float32bits(v)
	if v != v {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
