package export

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// TestWriteExternalSymlinkOutside refuses to export a model whose data
// file is a symbolic link to a file outside its folder: the export would
// copy that file's bytes into the new model.
func TestWriteExternalSymlinkOutside(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	src := externalModel(t, elsewhere, "model.onnx", "weights.bin")
	if err := os.Rename(src, filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "weights.bin"), filepath.Join(dir, "weights.bin")); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.onnx")
	err = Write(out, m, nil, nil)
	if !errors.Is(err, onnx.ErrOutsideFolder) {
		t.Errorf("exporting through a link out of the folder: %v, want ErrOutsideFolder", err)
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Errorf("the refused export left %s behind", out)
	}
}

// externalModel writes floatModel with W and b in the external file
// location, b after W, and returns the model's path.
func externalModel(t *testing.T, dir, name, location string) string {
	t.Helper()
	mp := floatModel(onnx.TensorProto_FLOAT, true, testW, testB)
	var blob []byte
	blob = append(blob, "header--"...) // so that offsets are not zero
	for _, tp := range mp.Graph.Initializer {
		offset := len(blob)
		blob = append(blob, tp.RawData...)
		tp.RawData = nil
		tp.DataLocation = onnx.TensorProto_EXTERNAL.Enum()
		tp.ExternalData = []*onnx.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String(location)},
			{Key: proto.String("offset"), Value: proto.String(strconv.Itoa(offset))},
			{Key: proto.String("length"), Value: proto.String(strconv.Itoa(len(blob) - offset))},
		}
	}
	if err := os.WriteFile(filepath.Join(dir, location), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWriteExternalData exports a model whose weights are in an external
// file into another folder and over itself: the tensors go to a new data
// file beside the new model and the source's data file is never touched.
func TestWriteExternalData(t *testing.T) {
	srcDir, outDir := t.TempDir(), t.TempDir()
	for _, test := range []struct {
		what, location, out, wantData string
	}{
		{"another folder", "weights.bin", filepath.Join(outDir, "hard.onnx"), "hard.onnx.data"},
		{"over itself", "model.onnx.data", "", "model.onnx.1.data"},
	} {
		src := externalModel(t, srcDir, "model.onnx", test.location)
		out := test.out
		if out == "" {
			out = src
		}
		srcData, _ := os.ReadFile(filepath.Join(srcDir, test.location))
		m := load(t, src)
		if err := Write(out, m, map[string][]float32{"W": newW}, nil); err != nil {
			t.Fatalf("%s: %v", test.what, err)
		}
		if after, _ := os.ReadFile(filepath.Join(srcDir, test.location)); !bytes.Equal(after, srcData) {
			t.Errorf("%s: the source's data file %s changed", test.what, test.location)
		}
		got := load(t, out)
		for _, tp := range got.Proto.GetGraph().GetInitializer() {
			ref, err := onnx.External(tp)
			if err != nil || tp.GetDataLocation() != onnx.TensorProto_EXTERNAL || ref.Location != test.wantData {
				t.Errorf("%s: %s stored at %+v (%v), want external in %s", test.what, tp.GetName(), ref, err, test.wantData)
			}
			if ref.Offset%dataAlign != 0 {
				t.Errorf("%s: %s at offset %d, not a multiple of %d", test.what, tp.GetName(), ref.Offset, dataAlign)
			}
		}
		vals := decoded(t, got)
		if !slices.Equal(vals["W"], newW) || !slices.Equal(vals["b"], testB) {
			t.Errorf("%s: read back W=%v b=%v, want W=%v b=%v", test.what, vals["W"], vals["b"], newW, testB)
		}
		x := &interp.Tensor{Shape: []int{2, 4}, Data: []float32{1, 2, 3, 4, -1, 0.5, 0, 2}}
		y, err := compile(t, got).Run(x)
		if err != nil {
			t.Fatal(err)
		}
		want := testB[0]
		for k := range 4 {
			want += x.Data[k] * newW[3*k]
		}
		if math.Abs(float64(y[0].Data[0]-want)) > 1e-5 {
			t.Errorf("%s: y[0][0] = %v, want %v", test.what, y[0].Data[0], want)
		}
	}
}

// TestWriteExternalUnchanged exports an external-data model without
// changes: apart from where the external data lives, the model is the same.
func TestWriteExternalUnchanged(t *testing.T) {
	src := externalModel(t, t.TempDir(), "model.onnx", "weights.bin")
	out := filepath.Join(t.TempDir(), "copy.onnx")
	if err := Write(out, load(t, src), nil, nil); err != nil {
		t.Fatal(err)
	}
	got, want := unmarshal(t, out), unmarshal(t, src)
	for _, mp := range []*onnx.ModelProto{got, want} {
		for _, tp := range mp.Graph.Initializer {
			tp.ExternalData = nil
		}
	}
	if !proto.Equal(got, want) {
		t.Error("an unchanged export of an external-data model differs in more than the external data references")
	}
	if !slices.Equal(decoded(t, load(t, out))["W"], testW) {
		t.Error("W changed in an unchanged export")
	}
}

func TestWriteExternalErrors(t *testing.T) {
	dir := t.TempDir()
	src := externalModel(t, dir, "model.onnx", "weights.bin")
	m := load(t, src)
	os.Remove(filepath.Join(dir, "weights.bin"))
	err := Write(filepath.Join(t.TempDir(), "out.onnx"), m, nil, nil)
	if err == nil || !strings.Contains(err.Error(), `"W"`) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exporting with the data file gone: %v, want an error naming W and wrapping os.ErrNotExist", err)
	}
}
