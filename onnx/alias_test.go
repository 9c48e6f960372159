package onnx

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// within reports whether b lies inside data's storage.
func within(b, data []byte) bool {
	if len(b) == 0 || len(data) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&data[0]))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(data))
}

// TestParseAliasesRawData checks that a parsed model's initializers keep
// their raw bytes in the loaded file's buffer, decode as before, cannot
// be appended to in place, and that a changed initializer is saved.
func TestParseAliasesRawData(t *testing.T) {
	for _, name := range []string{"fmnist_cnn.onnx", "resblock.onnx", "bench_cifar.onnx"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "models", name))
		if err != nil {
			t.Fatal(err)
		}
		// Parse shares the bytes of large models only; these are small, so
		// the test does what Parse does for a large one.
		var mp ModelProto
		if err := proto.Unmarshal(data, &mp); err != nil {
			t.Fatal(err)
		}
		if !aliasRawData(data, &mp) {
			t.Fatalf("%s: the raw data was not shared", name)
		}
		m := &Model{Proto: &mp, raw: data, pristine: cloneSharingRaw(&mp)}
		var copied ModelProto
		if err := proto.Unmarshal(data, &copied); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&copied, m.Proto) {
			t.Fatalf("%s: the aliased model differs from proto.Unmarshal's", name)
		}
		aliased := 0
		for _, tp := range m.Proto.GetGraph().GetInitializer() {
			if len(tp.RawData) == 0 {
				continue
			}
			if !within(tp.RawData, data) || cap(tp.RawData) != len(tp.RawData) {
				t.Fatalf("%s: initializer %q: raw data not an alias capped at its length", name, tp.GetName())
			}
			aliased++
		}
		if aliased == 0 {
			t.Fatalf("%s: no initializer with raw data", name)
		}
		// Changed in place, in another field, or replaced: what is saved
		// is the model as it now is.
		for _, change := range []func(){
			func() { m.Proto.GetGraph().GetInitializer()[0].RawData[0] ^= 0x40 },
			func() { m.Proto.ProducerName = proto.String("changed") },
		} {
			change()
			saved, err := m.Marshal()
			var back ModelProto
			if err != nil || proto.Unmarshal(saved, &back) != nil || !proto.Equal(&back, m.Proto) {
				t.Fatalf("%s: a changed model does not round-trip (%v)", name, err)
			}
		}
		before := slices.Clone(data)
		tp := m.Proto.GetGraph().GetInitializer()[0]
		tp.RawData = append(tp.RawData, 1, 2, 3, 4) // must reallocate
		if !slices.Equal(data, before) {
			t.Fatalf("%s: appending to an initializer's raw data wrote into the file's bytes", name)
		}
		saved, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var back ModelProto
		if err := proto.Unmarshal(saved, &back); err != nil || !proto.Equal(&back, m.Proto) {
			t.Fatalf("%s: the changed model does not round-trip (%v)", name, err)
		}
	}
}

// TestAliasRawDataRepeatedFields feeds wire forms that proto.Unmarshal
// merges (a graph field twice, raw_data twice in one tensor): the decoded
// model is proto.Unmarshal's either way.
func TestAliasRawDataRepeatedFields(t *testing.T) {
	tensor := func(name string, raws ...[]byte) []byte {
		var b []byte
		b = protowire.AppendTag(b, 8, protowire.BytesType)
		b = protowire.AppendString(b, name)
		for _, r := range raws {
			b = protowire.AppendTag(b, wireTensorRawData, protowire.BytesType)
			b = protowire.AppendBytes(b, r)
		}
		return b
	}
	graph := func(tensors ...[]byte) []byte {
		var b []byte
		for _, tb := range tensors {
			b = protowire.AppendTag(b, wireGraphInitializer, protowire.BytesType)
			b = protowire.AppendBytes(b, tb)
		}
		return b
	}
	model := func(graphs ...[]byte) []byte {
		var b []byte
		for _, g := range graphs {
			b = protowire.AppendTag(b, wireModelGraph, protowire.BytesType)
			b = protowire.AppendBytes(b, g)
		}
		return b
	}
	for _, test := range []struct {
		name string
		data []byte
	}{
		{"one graph", model(graph(tensor("a", []byte{1, 2, 3, 4}), tensor("b", []byte{5, 6, 7, 8})))},
		{"two graph fields", model(graph(tensor("a", []byte{1, 2, 3, 4})), graph(tensor("b", []byte{5, 6, 7, 8})))},
		{"raw data twice", model(graph(tensor("a", []byte{1, 2, 3, 4}, []byte{9, 9, 9, 9})))},
		{"empty raw data", model(graph(tensor("a", nil), tensor("b", []byte{5, 6, 7, 8})))},
	} {
		var want ModelProto
		if err := proto.Unmarshal(test.data, &want); err != nil {
			t.Fatal(err)
		}
		var got ModelProto
		if err := proto.Unmarshal(test.data, &got); err != nil {
			t.Fatal(err)
		}
		if !aliasRawData(test.data, &got) {
			t.Errorf("%s: the raw data was not shared", test.name)
		}
		if !proto.Equal(&want, &got) {
			t.Errorf("%s: the shared model differs from proto.Unmarshal's", test.name)
		}
	}
}

// TestSnapshotOnlyWhenSmall checks that a model keeps a snapshot of itself
// only where its raw data is large and the rest is not (weights in
// float_data), and saves unchanged bytes as loaded and a change as made
// either way.
func TestSnapshotOnlyWhenSmall(t *testing.T) {
	big := &TensorProto{Name: proto.String("w"), DataType: proto.Int32(int32(TensorProto_FLOAT)),
		Dims: []int64{maxSnapshot / 4}, FloatData: make([]float32, maxSnapshot/4)}
	small := &TensorProto{Name: proto.String("b"), DataType: proto.Int32(int32(TensorProto_FLOAT)),
		Dims: []int64{1}, RawData: []byte{0, 0, 128, 63}}
	large := &TensorProto{Name: proto.String("l"), DataType: proto.Int32(int32(TensorProto_FLOAT)),
		Dims: []int64{minSnapshotRaw / 4}, RawData: make([]byte, minSnapshotRaw)}
	for _, test := range []struct {
		name     string
		inits    []*TensorProto
		snapshot bool
	}{
		{"small raw data", []*TensorProto{small}, false},
		{"large raw data", []*TensorProto{large}, true},
		{"float data past the cap", []*TensorProto{big, large}, false},
	} {
		data, err := proto.Marshal(&ModelProto{IrVersion: proto.Int64(8), Graph: &GraphProto{Initializer: test.inits}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(data, "")
		if err != nil {
			t.Fatal(err)
		}
		if (m.pristine != nil) != test.snapshot {
			t.Errorf("%s: snapshot kept %v, want %v", test.name, m.pristine != nil, test.snapshot)
		}
		for _, tp := range m.Proto.GetGraph().GetInitializer() {
			if shared := within(tp.RawData, data); len(tp.RawData) > 0 && shared != (tp.GetName() == "l") {
				t.Errorf("%s: initializer %s shares the file's bytes: %v", test.name, tp.GetName(), shared)
			}
		}
		if saved, err := m.Marshal(); err != nil || !slices.Equal(saved, data) {
			t.Errorf("%s: unchanged model not saved as loaded (%v)", test.name, err)
		}
		m.Proto.ProducerName = proto.String("changed")
		saved, err := m.Marshal()
		var back ModelProto
		if err != nil || proto.Unmarshal(saved, &back) != nil || back.GetProducerName() != "changed" {
			t.Errorf("%s: the change is not saved (%v)", test.name, err)
		}
	}
}
