package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// fuzzSeedModels are the small real models whose bytes seed the fuzzers
// (fmnist_cnn, at 1.6 MB, would slow every mutation).
var fuzzSeedModels = []string{"dropout", "normalized", "opset7_mlp", "resblock", "mobile"}

// addModelSeeds adds each seed model's bytes to f's corpus.
func addModelSeeds(f *testing.F) {
	for _, name := range fuzzSeedModels {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "models", name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte("not a model"))
}

// FuzzModelLoad decodes arbitrary bytes as a model, checks its graph and
// decodes every initializer and tensor attribute: errors are fine, a
// panic or a runaway allocation is not.
func FuzzModelLoad(f *testing.F) {
	addModelSeeds(f)
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), bytes.Repeat([]byte{1, 0, 128, 63}, 64), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, dir)
		if err != nil {
			oneLine(t, err)
			return
		}
		if _, err := m.SHA256(); err != nil {
			return
		}
		g, err := m.Graph()
		if err != nil {
			oneLine(t, err)
			return
		}
		g.ParamCount()
		g.OpHistogram()
		for _, name := range g.InitializerNames() {
			_, _, err := g.Initializer(name)
			oneLine(t, err)
		}
		for _, n := range g.Nodes {
			for _, a := range n.AttrNames() {
				_, err := n.Tensor(a, dir)
				oneLine(t, err)
				_, err = n.Ints(a, nil)
				oneLine(t, err)
			}
		}
	})
}

// oneLine fails t when err's message spans lines: the commands print it
// as their one line on stderr.
func oneLine(t *testing.T, err error) {
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("a multi-line error: %q", err)
	}
}

// FuzzExternalData resolves external-data references with arbitrary
// location, offset, length and dims in a folder holding a data file, a
// subfolder, and links to a file outside: whatever decodes must come from
// inside the folder, and never holds the outside file's bytes.
func FuzzExternalData(f *testing.F) {
	root := f.TempDir()
	dir, outside := filepath.Join(root, "model"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(dir, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	inside := EncodeRaw(TensorProto_FLOAT, []float32{1, 2, 3, 4, 5, 6, 7, 8})
	secret := bytes.Repeat([]byte{0xAB}, len(inside))
	for path, data := range map[string][]byte{
		filepath.Join(dir, "w.bin"): inside, filepath.Join(dir, "sub", "v.bin"): inside,
		filepath.Join(outside, "secret.bin"): secret,
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			f.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		filepath.Join(dir, "link.bin"):        filepath.Join(outside, "secret.bin"),
		filepath.Join(dir, "rel.bin"):         "../outside/secret.bin",
		filepath.Join(dir, "out"):             outside,
		filepath.Join(dir, "sub", "back.bin"): "../w.bin",
	} {
		if err := os.Symlink(target, link); err != nil {
			f.Skipf("symbolic links unavailable: %v", err)
		}
	}
	for _, loc := range []string{"w.bin", "sub/v.bin", "link.bin", "rel.bin", "out/secret.bin", "sub/back.bin",
		"../outside/secret.bin", "/etc/passwd", "sub/../w.bin", "sub", ""} {
		f.Add(loc, "0", "-1", int64(8))
		f.Add(loc, "4", "16", int64(4))
	}
	f.Add("w.bin", "9223372036854775807", "1", int64(1))
	f.Add("w.bin", "0", "4611686018427387904", int64(1)<<60)
	f.Fuzz(func(t *testing.T, location, offset, length string, n int64) {
		tp := &TensorProto{Name: proto.String("t"), DataType: proto.Int32(int32(TensorProto_FLOAT)), Dims: []int64{n},
			DataLocation: TensorProto_EXTERNAL.Enum()}
		for _, kv := range [][2]string{{"location", location}, {"offset", offset}, {"length", length}} {
			if kv[1] != "-1" {
				tp.ExternalData = append(tp.ExternalData, &StringStringEntryProto{Key: proto.String(kv[0]), Value: proto.String(kv[1])})
			}
		}
		got, err := DecodeTensor(tp, dir)
		if err != nil {
			oneLine(t, err)
			return
		}
		ref, err := External(tp)
		if err != nil {
			t.Fatalf("decoded, but External refuses the reference: %v", err)
		}
		real, err := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(ref.Location)))
		if err != nil {
			t.Fatalf("decoded %q, which does not resolve: %v", location, err)
		}
		realDir, _ := filepath.EvalSymlinks(dir)
		if rel, err := filepath.Rel(realDir, real); err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("decoded %q from %s, outside %s", location, real, realDir)
		}
		raw := EncodeRaw(TensorProto_FLOAT, got.Float)
		if len(raw) > 0 && bytes.Contains(secret, raw[:min(len(raw), 4)]) {
			t.Fatalf("decoded the outside file's bytes through %q (offset %s, length %s)", location, offset, length)
		}
		if int64(len(got.Float)) != n {
			t.Fatalf("decoded %d values for dims [%s]", len(got.Float), strconv.FormatInt(n, 10))
		}
	})
}
