package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

func dtype(dt TensorProto_DataType) *int32 { return proto.Int32(int32(dt)) }

func TestDecodeTensor(t *testing.T) {
	want := []float32{1, -2.5, 0.25, 3}
	for _, test := range []struct {
		name string
		tp   *TensorProto
	}{
		{"float_data", &TensorProto{DataType: dtype(TensorProto_FLOAT), FloatData: want}},
		{"float raw", &TensorProto{DataType: dtype(TensorProto_FLOAT), RawData: EncodeRaw(TensorProto_FLOAT, want)}},
		{"double_data", &TensorProto{DataType: dtype(TensorProto_DOUBLE), DoubleData: []float64{1, -2.5, 0.25, 3}}},
		{"double raw", &TensorProto{DataType: dtype(TensorProto_DOUBLE), RawData: EncodeRaw(TensorProto_DOUBLE, want)}},
		// float16 bit patterns of 1, -2.5, 0.25, 3 carried in int32_data.
		{"float16 int32_data", &TensorProto{DataType: dtype(TensorProto_FLOAT16), Int32Data: []int32{0x3c00, 0xc100, 0x3400, 0x4200}}},
		{"float16 raw", &TensorProto{DataType: dtype(TensorProto_FLOAT16), RawData: EncodeRaw(TensorProto_FLOAT16, want)}},
		{"bfloat16 int32_data", &TensorProto{DataType: dtype(TensorProto_BFLOAT16), Int32Data: []int32{0x3f80, 0xc020, 0x3e80, 0x4040}}},
		{"bfloat16 raw", &TensorProto{DataType: dtype(TensorProto_BFLOAT16), RawData: EncodeRaw(TensorProto_BFLOAT16, want)}},
	} {
		test.tp.Name = proto.String(test.name)
		test.tp.Dims = []int64{2, 2}
		got, err := DecodeTensor(test.tp, "")
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		if !slices.Equal(got.Float, want) || !got.IsFloat() {
			t.Errorf("%s: got %v, want %v", test.name, got.Float, want)
		}
	}

	ints := []struct {
		name string
		tp   *TensorProto
		want []int64
	}{
		{"int64_data", &TensorProto{DataType: dtype(TensorProto_INT64), Int64Data: []int64{-1, 0, 1 << 40}}, []int64{-1, 0, 1 << 40}},
		{"int64 raw", &TensorProto{DataType: dtype(TensorProto_INT64), RawData: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}}, []int64{-1, 0, 2}},
		{"int32 raw", &TensorProto{DataType: dtype(TensorProto_INT32), RawData: []byte{0xfe, 0xff, 0xff, 0xff, 5, 0, 0, 0, 0, 1, 0, 0}}, []int64{-2, 5, 256}},
		{"int8 raw", &TensorProto{DataType: dtype(TensorProto_INT8), RawData: []byte{0xff, 1, 0x80}}, []int64{-1, 1, -128}},
		{"uint8 int32_data", &TensorProto{DataType: dtype(TensorProto_UINT8), Int32Data: []int32{255, 0, 7}}, []int64{255, 0, 7}},
		{"bool raw", &TensorProto{DataType: dtype(TensorProto_BOOL), RawData: []byte{1, 0, 1}}, []int64{1, 0, 1}},
	}
	for _, test := range ints {
		test.tp.Dims = []int64{3}
		got, err := DecodeTensor(test.tp, "")
		if err != nil || !slices.Equal(got.Int, test.want) || got.IsFloat() {
			t.Errorf("%s: got %v, %v; want %v", test.name, got, err, test.want)
		}
	}
}

func TestDecodeTensorErrors(t *testing.T) {
	for _, test := range []struct {
		name string
		tp   *TensorProto
		is   error
		want string
	}{
		{"string weight", &TensorProto{DataType: dtype(TensorProto_STRING), Dims: []int64{1}, StringData: [][]byte{[]byte("a")}}, ErrUnsupported, "STRING"},
		{"complex weight", &TensorProto{DataType: dtype(TensorProto_COMPLEX64), Dims: []int64{1}}, ErrUnsupported, "COMPLEX64"},
		{"short raw", &TensorProto{DataType: dtype(TensorProto_FLOAT), Dims: []int64{3}, RawData: make([]byte, 8)}, ErrInvalid, "8 bytes of data for 3 elements"},
		{"short typed", &TensorProto{DataType: dtype(TensorProto_FLOAT), Dims: []int64{3}, FloatData: []float32{1}}, ErrInvalid, "1 values"},
		{"negative dim", &TensorProto{DataType: dtype(TensorProto_FLOAT), Dims: []int64{-3}}, ErrInvalid, "dimension 0"},
	} {
		test.tp.Name = proto.String("w")
		_, err := DecodeTensor(test.tp, "")
		if err == nil || !errors.Is(err, test.is) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got %v, want %v containing %q", test.name, err, test.is, test.want)
		}
	}
}

func external(location string, kv ...string) *TensorProto {
	tp := &TensorProto{Name: proto.String("w"), DataType: dtype(TensorProto_FLOAT), Dims: []int64{2},
		DataLocation: TensorProto_EXTERNAL.Enum()}
	tp.ExternalData = append(tp.ExternalData, &StringStringEntryProto{Key: proto.String("location"), Value: proto.String(location)})
	for i := 0; i+1 < len(kv); i += 2 {
		tp.ExternalData = append(tp.ExternalData, &StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return tp
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "weights"), 0o755)
	blob := append([]byte("junk"), EncodeRaw(TensorProto_FLOAT, []float32{1.5, -2})...)
	if err := os.WriteFile(filepath.Join(dir, "weights", "w.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "whole.bin"), blob[4:], 0o644)

	for _, test := range []struct {
		name string
		tp   *TensorProto
		want string // error text; "" for success
	}{
		{"offset and length", external("weights/w.bin", "offset", "4", "length", "8"), ""},
		{"whole file", external("whole.bin"), ""},
		{"absolute path", external(filepath.Join(dir, "whole.bin")), "escapes the model's folder"},
		{"parent folder", external("../whole.bin"), "escapes the model's folder"},
		{"sneaky parent", external("weights/../../x.bin"), "escapes the model's folder"},
		{"missing file", external("nope.bin"), "no such file"},
		{"past the end", external("whole.bin", "offset", "4", "length", "8"), "ends before offset 4"},
		{"bad offset", external("whole.bin", "offset", "-1"), "not a non-negative integer"},
		{"no location", &TensorProto{Name: proto.String("w"), DataType: dtype(TensorProto_FLOAT), Dims: []int64{2}, DataLocation: TensorProto_EXTERNAL.Enum()}, "without a location"},
	} {
		got, err := DecodeTensor(test.tp, dir)
		switch {
		case test.want == "" && err != nil:
			t.Errorf("%s: %v", test.name, err)
		case test.want == "" && !slices.Equal(got.Float, []float32{1.5, -2}):
			t.Errorf("%s: got %v, want [1.5 -2]", test.name, got.Float)
		case test.want != "" && (err == nil || !strings.Contains(err.Error(), test.want)):
			t.Errorf("%s: got error %v, want one containing %q", test.name, err, test.want)
		}
	}
}

func TestEncodeFloatKeepsStorageForm(t *testing.T) {
	data := []float32{0.5, -1, 2}
	for _, test := range []struct {
		name  string
		tp    *TensorProto
		check func(*TensorProto) bool
	}{
		{"float typed", &TensorProto{DataType: dtype(TensorProto_FLOAT), FloatData: make([]float32, 3)}, func(tp *TensorProto) bool { return tp.RawData == nil && len(tp.FloatData) == 3 }},
		{"float raw", &TensorProto{DataType: dtype(TensorProto_FLOAT), RawData: make([]byte, 12)}, func(tp *TensorProto) bool { return len(tp.RawData) == 12 && tp.FloatData == nil }},
		{"double typed", &TensorProto{DataType: dtype(TensorProto_DOUBLE), DoubleData: make([]float64, 3)}, func(tp *TensorProto) bool { return len(tp.DoubleData) == 3 }},
		{"float16 raw", &TensorProto{DataType: dtype(TensorProto_FLOAT16), RawData: make([]byte, 6)}, func(tp *TensorProto) bool { return len(tp.RawData) == 6 }},
		{"bfloat16 typed", &TensorProto{DataType: dtype(TensorProto_BFLOAT16), Int32Data: make([]int32, 3)}, func(tp *TensorProto) bool { return len(tp.Int32Data) == 3 }},
	} {
		test.tp.Dims = []int64{3}
		if err := EncodeFloat(test.tp, data); err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		if !test.check(test.tp) {
			t.Errorf("%s: storage form changed: %v", test.name, test.tp)
		}
		got, err := DecodeTensor(test.tp, "")
		if err != nil || !slices.Equal(got.Float, data) {
			t.Errorf("%s: round trip gave %v, %v", test.name, got, err)
		}
	}
	if err := EncodeFloat(&TensorProto{DataType: dtype(TensorProto_INT64), Dims: []int64{3}}, data); !errors.Is(err, ErrUnsupported) {
		t.Errorf("int64 tensor: got %v, want ErrUnsupported", err)
	}
	if err := EncodeFloat(&TensorProto{DataType: dtype(TensorProto_FLOAT), Dims: []int64{4}}, data); err == nil {
		t.Error("wrong length: got no error")
	}
}

func TestAttributes(t *testing.T) {
	n := &Node{Name: "conv", OpType: "Conv", Proto: &NodeProto{}, attrs: map[string]*AttributeProto{}}
	for _, a := range []*AttributeProto{
		{Name: proto.String("group"), Type: AttributeProto_INT.Enum(), I: proto.Int64(2)},
		{Name: proto.String("pads"), Type: AttributeProto_INTS.Enum(), Ints: []int64{1, 1, 1, 1}},
		{Name: proto.String("auto_pad"), Type: AttributeProto_STRING.Enum(), S: []byte("SAME_UPPER")},
		{Name: proto.String("alpha"), F: proto.Float32(0.2)}, // no type, as some old exporters write
	} {
		n.attrs[a.GetName()] = a
		n.Proto.Attribute = append(n.Proto.Attribute, a)
	}
	if g, err := n.Int("group", 1); g != 2 || err != nil {
		t.Errorf("group = %d, %v", g, err)
	}
	if s, err := n.Int("strides_missing", 7); s != 7 || err != nil {
		t.Errorf("default int = %d, %v", s, err)
	}
	if p, err := n.Ints("pads", nil); len(p) != 4 || err != nil {
		t.Errorf("pads = %v, %v", p, err)
	}
	if s, err := n.Str("auto_pad", "NOTSET"); s != "SAME_UPPER" || err != nil {
		t.Errorf("auto_pad = %q, %v", s, err)
	}
	if f, err := n.Float("alpha", 0.01); f != 0.2 || err != nil {
		t.Errorf("alpha = %v, %v", f, err)
	}
	if _, err := n.Float("group", 0); err == nil || !strings.Contains(err.Error(), `attribute "group" is INT, want FLOAT`) {
		t.Errorf("wrong type: got %v", err)
	}
	if !n.Has("pads") || n.Has("dilations") || len(n.AttrNames()) != 4 {
		t.Error("Has/AttrNames disagree with the attributes set")
	}
}
