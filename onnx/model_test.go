package onnx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func node(op, name string, in, out []string, attrs ...*AttributeProto) *NodeProto {
	return &NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: in, Output: out, Attribute: attrs}
}

func floatInit(name string, dims []int64, data ...float32) *TensorProto {
	return &TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(TensorProto_FLOAT)), FloatData: data}
}

func tensorInfo(name string, dims ...int64) *ValueInfoProto {
	shape := &TensorShapeProto{}
	for _, d := range dims {
		if d < 0 {
			shape.Dim = append(shape.Dim, &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimParam{DimParam: "N"}})
		} else {
			shape.Dim = append(shape.Dim, &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
	}
	return &ValueInfoProto{Name: proto.String(name), Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{
		ElemType: proto.Int32(int32(TensorProto_FLOAT)), Shape: shape}}}}
}

// linearModel is y = Relu(x·W + b) with x [N,2], the kind of graph exporters write.
func linearModel() *ModelProto {
	return &ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph: &GraphProto{
			Name: proto.String("linear"),
			Node: []*NodeProto{
				node("MatMul", "mm", []string{"x", "W"}, []string{"xw"}),
				node("Add", "add", []string{"xw", "b"}, []string{"z"}),
				node("Relu", "relu", []string{"z"}, []string{"y"}),
			},
			Initializer: []*TensorProto{floatInit("W", []int64{2, 3}, 1, 2, 3, 4, 5, 6), floatInit("b", []int64{3}, 0.5, -1, 0)},
			Input:       []*ValueInfoProto{tensorInfo("x", -1, 2)},
			Output:      []*ValueInfoProto{tensorInfo("y", -1, 3)},
		},
	}
}

func writeModel(t *testing.T, mp *ModelProto) string {
	t.Helper()
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseErrors(t *testing.T) {
	noGraph, _ := proto.Marshal(&ModelProto{IrVersion: proto.Int64(7), ProducerName: proto.String("x")})
	for i, test := range []struct {
		data []byte
		want string
	}{
		{nil, "empty"},
		{[]byte("\x89PNG\r\n\x1a\n not a model"), "not an ONNX protobuf"},
		{[]byte{0xff, 0xff, 0xff}, "not an ONNX protobuf"},
		{noGraph, "no graph"},
	} {
		_, err := Parse(test.data, "")
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("case %d: got error %v, want ErrInvalid mentioning %q", i, err, test.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.onnx"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func TestGraphView(t *testing.T) {
	mp := linearModel()
	// Old IR-3 exports list initializers among the inputs; they are not real inputs.
	mp.Graph.Input = append(mp.Graph.Input, tensorInfo("W", 2, 3), tensorInfo("b", 3))
	// Nodes out of order must come back sorted.
	n := mp.Graph.Node
	n[0], n[2] = n[2], n[0]
	m, err := Load(writeModel(t, mp))
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "x" || !slices.Equal(g.Inputs[0].Shape, []int64{-1, 2}) || g.Inputs[0].DimNames[0] != "N" {
		t.Errorf("inputs = %+v, want just x [-1 2] with dim name N", g.Inputs)
	}
	if len(g.Outputs) != 1 || g.Outputs[0].Name != "y" {
		t.Errorf("outputs = %+v, want y", g.Outputs)
	}
	var order []string
	for _, n := range g.Nodes {
		order = append(order, n.Name)
	}
	if got := strings.Join(order, ","); got != "mm,add,relu" {
		t.Errorf("topological order = %s, want mm,add,relu", got)
	}
	if g.Opset != 13 || m.Opset("ai.onnx") != 13 || m.Opset("com.microsoft") != 0 {
		t.Errorf("opset = %d, want 13", g.Opset)
	}
	if got := g.ParamCount(); got != 9 {
		t.Errorf("ParamCount = %d, want 9", got)
	}
	if h := g.OpHistogram(); h["MatMul"] != 1 || h["Add"] != 1 || h["Relu"] != 1 || len(h) != 3 {
		t.Errorf("OpHistogram = %v", h)
	}
	w, ok, err := g.Initializer("W")
	if err != nil || !ok || !slices.Equal(w.Float, []float32{1, 2, 3, 4, 5, 6}) || !slices.Equal(w.Dims, []int64{2, 3}) {
		t.Errorf("Initializer(W) = %+v, %v, %v", w, ok, err)
	}
	if _, ok, _ := g.Initializer("nope"); ok {
		t.Error("Initializer(nope) reported ok")
	}
}

func TestGraphErrors(t *testing.T) {
	for _, test := range []struct {
		name   string
		modify func(*GraphProto)
		want   string
	}{
		{"dangling input", func(g *GraphProto) { g.Node[1].Input[1] = "bias" }, `reads "bias", which no node`},
		{"cycle", func(g *GraphProto) {
			g.Node[0].Input[0] = "y" // mm reads relu's output
		}, "cycle"},
		{"produced twice", func(g *GraphProto) { g.Node[1].Output[0] = "xw" }, `writes "xw"`},
		{"output nobody makes", func(g *GraphProto) { g.Output[0].Name = proto.String("q") }, `output "q"`},
		{"duplicate initializer", func(g *GraphProto) { g.Initializer = append(g.Initializer, g.Initializer[0]) }, "appears twice"},
	} {
		mp := linearModel()
		test.modify(mp.Graph)
		m, err := Load(writeModel(t, mp))
		if err != nil {
			t.Fatalf("%s: Load: %v", test.name, err)
		}
		_, err = m.Graph()
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got %v, want ErrInvalid containing %q", test.name, err, test.want)
		}
	}
}

// TestSaveUnchangedIsByteIdentical uses bytes whose fields are not in the
// order Go's encoder writes them, so only keeping the loaded bytes passes.
func TestSaveUnchangedIsByteIdentical(t *testing.T) {
	graph, _ := proto.Marshal(linearModel().Graph)
	var data []byte
	data = protowire.AppendTag(data, 7, protowire.BytesType) // graph first
	data = protowire.AppendBytes(data, graph)
	data = protowire.AppendTag(data, 2, protowire.BytesType) // producer_name
	data = protowire.AppendString(data, "handmade")
	data = protowire.AppendTag(data, 1, protowire.VarintType) // ir_version last
	data = protowire.AppendVarint(data, 8)
	dir := t.TempDir()
	src := filepath.Join(dir, "in.onnx")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out.onnx")
	if err := m.Save(dst); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, data) {
		t.Fatalf("saved %d bytes differ from the %d loaded", len(got), len(data))
	}

	// A real PyTorch export, when the test assets are present.
	for _, name := range []string{"fmnist_cnn.onnx", "resblock.onnx"} {
		path := filepath.Join("..", "testdata", "models", name)
		orig, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		m, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := filepath.Join(dir, name)
		if err := m.Save(out); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, orig) {
			t.Errorf("%s: saved copy differs from the original", name)
		}
	}
}

func TestSaveChangedInitializer(t *testing.T) {
	path := writeModel(t, linearModel())
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := m.Graph()
	if err := EncodeFloat(g.InitializerProto("b"), []float32{7, 8, 9}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "changed.onnx")
	if err := m.Save(out); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := m2.Graph()
	b, _, _ := g2.Initializer("b")
	if !slices.Equal(b.Float, []float32{7, 8, 9}) {
		t.Fatalf("b after save = %v, want [7 8 9]", b.Float)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("save left %d files behind, want only the model", len(entries))
	}
}

func TestSHA256IsTheFileDigest(t *testing.T) {
	path := writeModel(t, linearModel())
	data, _ := os.ReadFile(path)
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.SHA256()
	sum := sha256.Sum256(data)
	if err != nil || got != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, %v; want the file's digest %x", got, err, sum)
	}
}
