package export

import (
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/x448/float16"
	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

var testModels = []string{"fmnist_cnn", "fmnist_cnn_b1_255", "resblock", "mobile", "normalized", "dropout", "opset7_mlp"}

func load(t *testing.T, path string) *onnx.Model {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compile(t *testing.T, m *onnx.Model) *interp.Program {
	t.Helper()
	p, err := interp.Compile(m, &interp.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// decoded returns every float initializer of m decoded, by name.
func decoded(t *testing.T, m *onnx.Model) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, tp := range m.Proto.GetGraph().GetInitializer() {
		d, err := onnx.DecodeTensor(tp, m.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if d.IsFloat() {
			out[d.Name] = d.Float
		}
	}
	return out
}

// unmarshal reads the file at path as a ModelProto.
func unmarshal(t *testing.T, path string) *onnx.ModelProto {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mp onnx.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		t.Fatal(err)
	}
	return &mp
}

// TestWriteUnchanged writes every test model with no values and with its own
// values, and checks at the protobuf level that the only difference is the
// metadata added.
func TestWriteUnchanged(t *testing.T) {
	dir := t.TempDir()
	md := map[string]string{"onnxguard.hardened": "fgsm eps=0.1", "onnxguard.epochs": "3"}
	for _, name := range testModels {
		src := testfiles.Path("models", name+".onnx")
		m := load(t, src)
		for _, test := range []struct {
			what   string
			values map[string][]float32
		}{
			{"no values", nil},
			{"original values", decoded(t, m)},
			{"program values", Values(compile(t, m))},
		} {
			out := filepath.Join(dir, name+".onnx")
			if err := Write(out, m, test.values, &Options{Metadata: md}); err != nil {
				t.Fatalf("%s, %s: %v", name, test.what, err)
			}
			got, want := unmarshal(t, out), unmarshal(t, src)
			gotMD := map[string]string{}
			for _, p := range got.GetMetadataProps() {
				gotMD[p.GetKey()] = p.GetValue()
			}
			for k, v := range md {
				if gotMD[k] != v {
					t.Errorf("%s, %s: metadata %q = %q, want %q", name, test.what, k, gotMD[k], v)
				}
			}
			got.MetadataProps, want.MetadataProps = nil, nil
			if !proto.Equal(got, want) {
				t.Errorf("%s, %s: the written model differs from the source in more than metadata_props", name, test.what)
			}
		}
	}
	if !proto.Equal(load(t, testfiles.Path("models", "resblock.onnx")).Proto, unmarshal(t, testfiles.Path("models", "resblock.onnx"))) {
		t.Error("Write changed the model it was given")
	}
}

func TestWriteMetadataReplacesSameKey(t *testing.T) {
	m := load(t, testfiles.Path("models", "dropout.onnx"))
	m.Proto.MetadataProps = []*onnx.StringStringEntryProto{
		{Key: proto.String("keep"), Value: proto.String("1")},
		{Key: proto.String("epochs"), Value: proto.String("1")},
	}
	out := filepath.Join(t.TempDir(), "m.onnx")
	if err := Write(out, m, nil, &Options{Metadata: map[string]string{"epochs": "5", "new": "x"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range unmarshal(t, out).GetMetadataProps() {
		got = append(got, p.GetKey()+"="+p.GetValue())
	}
	if want := []string{"keep=1", "epochs=5", "new=x"}; !slices.Equal(got, want) {
		t.Errorf("metadata_props %v, want %v", got, want)
	}
}

// TestWriteChangedWeight changes one bias of the trained CNN and reads the
// written file back through the interpreter.
func TestWriteChangedWeight(t *testing.T) {
	src := testfiles.Path("models", "fmnist_cnn.onnx")
	m := load(t, src)
	bias := slices.Clone(decoded(t, m)["fc2.bias"])
	bias[3] += 5
	out := filepath.Join(t.TempDir(), "changed.onnx")
	if err := Write(out, m, map[string][]float32{"fc2.bias": bias}, nil); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.Stat(src)
	if st, err := os.Stat(out); err != nil || st.Size() != orig.Size() {
		t.Errorf("changing one value changed the file's size: %d → %v (%v)", orig.Size(), st.Size(), err)
	}
	before, after := decoded(t, m), decoded(t, load(t, out))
	for name, v := range before {
		want := v
		if name == "fc2.bias" {
			want = bias
		}
		if !slices.Equal(after[name], want) {
			t.Errorf("%s after the write: %v…, want %v…", name, after[name][:3], want[:3])
		}
	}
	tp := unmarshal(t, out).GetGraph().GetInitializer()
	for _, init := range tp {
		if init.RawData == nil || len(init.FloatData) > 0 {
			t.Errorf("%s: no longer stored in raw_data", init.GetName())
		}
	}

	x, _ := testfiles.FashionSlice(t, 4)
	batch := &interp.Tensor{Shape: []int{4, 1, 28, 28}, Data: x}
	a, err := compile(t, m).Run(batch)
	if err != nil {
		t.Fatal(err)
	}
	b, err := compile(t, load(t, out)).Run(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a[0].Data {
		want := a[0].Data[i]
		if i%10 == 3 {
			want += 5
		}
		if d := b[0].Data[i] - want; math.Abs(float64(d)) > 1e-4 {
			t.Errorf("logit %d: %v after the change, want %v", i, b[0].Data[i], want)
		}
	}
}

// TestWriteRunningStats trains the residual model's BatchNorm statistics for
// a step and checks they are in the written file.
func TestWriteRunningStats(t *testing.T) {
	m := load(t, testfiles.Path("models", "resblock.onnx"))
	p := compile(t, m)
	x, shape := testfiles.ReadNpy(t, testfiles.Path("models", "resblock.input.npy"))
	if _, err := p.RunMode(&interp.Tensor{Shape: shape, Data: x}, interp.Mode{Training: true}); err != nil {
		t.Fatal(err)
	}
	values := Values(p)
	if slices.Equal(values["block1.bn1.running_mean"], decoded(t, m)["block1.bn1.running_mean"]) {
		t.Fatal("a training-mode pass left block1.bn1.running_mean unchanged")
	}
	out := filepath.Join(t.TempDir(), "resblock.onnx")
	if err := Write(out, m, values, nil); err != nil {
		t.Fatal(err)
	}
	for _, prm := range compile(t, load(t, out)).Params() {
		if !slices.Equal(prm.T.Data, values[prm.Name]) {
			t.Errorf("%s: the reloaded model holds %v…, want %v…", prm.Name, prm.T.Data[:2], values[prm.Name][:2])
		}
	}
}

func TestWriteErrors(t *testing.T) {
	m := load(t, testfiles.Path("models", "fmnist_cnn.onnx"))
	m.Proto.Graph.Initializer = append(m.Proto.Graph.Initializer, &onnx.TensorProto{
		Name: proto.String("shape"), Dims: []int64{2}, DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: []int64{-1, 10}})
	dir := t.TempDir()
	for _, test := range []struct {
		values map[string][]float32
		want   []string
	}{
		{map[string][]float32{"fc9.weight": {1}}, []string{`"fc9.weight" is not an initializer`, "Constant nodes"}},
		{map[string][]float32{"fc2.bias": {1, 2}}, []string{`"fc2.bias" has 10 elements`, "2 values"}},
		{map[string][]float32{"shape": {1, 2}}, []string{`"shape" has data type INT64`}},
		{map[string][]float32{"a": nil, "fc2.bias": nil}, []string{`"a" is not`, `"fc2.bias" has 10`}},
	} {
		out := filepath.Join(dir, "m.onnx")
		err := Write(out, m, test.values, nil)
		for _, w := range test.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: got %v, want an error mentioning %q", slices.Sorted(maps.Keys(test.values)), err, w)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: a file was written despite the error", slices.Sorted(maps.Keys(test.values)))
		}
	}
	if err := Write(filepath.Join(dir, "m.onnx"), nil, nil, nil); err == nil {
		t.Error("Write of a nil model: no error")
	}
	if err := Write(filepath.Join(dir, "m.onnx"), m, nil, &Options{Metadata: map[string]string{"": "x"}}); err == nil {
		t.Error("an empty metadata key: no error")
	}
}

// floatModel is y = x·Cast(W) + Cast(b), x [N,4], with W and b stored as dt
// in raw_data (raw) or in the typed field.
func floatModel(dt onnx.TensorProto_DataType, raw bool, w, b []float32) *onnx.ModelProto {
	init := func(name string, dims []int64, v []float32) *onnx.TensorProto {
		tp := &onnx.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(dt))}
		if raw {
			tp.RawData = onnx.EncodeRaw(dt, v)
		} else {
			switch dt {
			case onnx.TensorProto_FLOAT:
				tp.FloatData = v
			case onnx.TensorProto_DOUBLE:
				for _, f := range v {
					tp.DoubleData = append(tp.DoubleData, float64(f))
				}
			default:
				for _, f := range v {
					bits := float16.Fromfloat32(f).Bits()
					if dt == onnx.TensorProto_BFLOAT16 {
						bits = uint16(math.Float32bits(f) >> 16)
					}
					tp.Int32Data = append(tp.Int32Data, int32(bits))
				}
			}
		}
		return tp
	}
	node := func(op string, in, out []string, attrs ...*onnx.AttributeProto) *onnx.NodeProto {
		return &onnx.NodeProto{OpType: proto.String(op), Name: proto.String(out[0]), Input: in, Output: out, Attribute: attrs}
	}
	to := &onnx.AttributeProto{Name: proto.String("to"), Type: onnx.AttributeProto_INT.Enum(), I: proto.Int64(int64(onnx.TensorProto_FLOAT))}
	return &onnx.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: proto.Int64(13)}},
		Graph: &onnx.GraphProto{
			Name: proto.String("affine"),
			Node: []*onnx.NodeProto{
				node("Cast", []string{"W"}, []string{"W32"}, to),
				node("Cast", []string{"b"}, []string{"b32"}, to),
				node("MatMul", []string{"x", "W32"}, []string{"xw"}),
				node("Add", []string{"xw", "b32"}, []string{"y"}),
			},
			Initializer: []*onnx.TensorProto{init("W", []int64{4, 3}, w), init("b", []int64{3}, b)},
			Input:       []*onnx.ValueInfoProto{valueInfo("x", 4)},
			Output:      []*onnx.ValueInfoProto{valueInfo("y", 3)},
		},
	}
}

func valueInfo(name string, features int64) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{
		{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: features}},
	}}
	return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: proto.Int32(int32(onnx.TensorProto_FLOAT)), Shape: shape}}}}
}

func parse(t *testing.T, mp *onnx.ModelProto, dir string) *onnx.Model {
	t.Helper()
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	testW = []float32{0.5, -1, 0.25, 2, 0.125, -0.75, 1.5, 0, -2, 0.375, 1, -0.5}
	testB = []float32{0.1, -0.2, 0.3}
	newW  = []float32{1.1, -0.3, 0.7, 0.2, 2.5, -1.25, 0.1, 0.9, -0.6, 1.3, 0.4, -0.05}
)

// TestWriteKeepsTypeAndStorage writes new weights into models whose
// initializers are float16, bfloat16, double or float32, held raw or typed,
// and checks type, storage form and values (rounded to the type) after.
func TestWriteKeepsTypeAndStorage(t *testing.T) {
	dir := t.TempDir()
	for _, dt := range []onnx.TensorProto_DataType{onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16, onnx.TensorProto_DOUBLE, onnx.TensorProto_FLOAT} {
		for _, raw := range []bool{true, false} {
			m := parse(t, floatModel(dt, raw, testW, testB), "")
			out := filepath.Join(dir, "m.onnx")
			if err := Write(out, m, map[string][]float32{"W": newW}, nil); err != nil {
				t.Fatalf("%v raw=%v: %v", dt, raw, err)
			}
			got := load(t, out)
			for _, tp := range got.Proto.GetGraph().GetInitializer() {
				if onnx.TensorProto_DataType(tp.GetDataType()) != dt || (tp.RawData != nil) != raw || !slices.Equal(tp.GetDims(), map[string][]int64{"W": {4, 3}, "b": {3}}[tp.GetName()]) {
					t.Errorf("%v raw=%v: %s written as %v dims %v raw=%v", dt, raw, tp.GetName(), onnx.TensorProto_DataType(tp.GetDataType()), tp.GetDims(), tp.RawData != nil)
				}
			}
			// What the type holds of the values: encode and decode once.
			want, err := onnx.DecodeTensor(&onnx.TensorProto{Dims: []int64{12}, DataType: proto.Int32(int32(dt)), RawData: onnx.EncodeRaw(dt, newW)}, "")
			if err != nil {
				t.Fatal(err)
			}
			vals := decoded(t, got)
			if !slices.Equal(vals["W"], want.Float) {
				t.Errorf("%v raw=%v: W reads back as %v, want %v", dt, raw, vals["W"], want.Float)
			}
			if dt == onnx.TensorProto_FLOAT && !slices.Equal(vals["W"], newW) {
				t.Errorf("float32: W reads back as %v, want exactly %v", vals["W"], newW)
			}
			if !proto.Equal(got.Proto.Graph.Initializer[1], m.Proto.Graph.Initializer[1]) {
				t.Errorf("%v raw=%v: b changed though no value was given for it", dt, raw)
			}
		}
	}
}
