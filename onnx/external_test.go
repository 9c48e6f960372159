package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestExternalDataSymlinks follows external data through symbolic links:
// a link that stays in the model's folder is read, one that leaves it is
// refused with ErrOutsideFolder, whether the link is the file or a folder
// on the way, and a model folder reached through a link is its own root.
func TestExternalDataSymlinks(t *testing.T) {
	root := t.TempDir()
	dir, elsewhere := filepath.Join(root, "model"), filepath.Join(root, "elsewhere")
	for _, d := range []string{dir, elsewhere, filepath.Join(dir, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	blob := EncodeRaw(TensorProto_FLOAT, []float32{1.5, -2})
	for _, p := range []string{filepath.Join(dir, "sub", "real.bin"), filepath.Join(elsewhere, "secret.bin")} {
		if err := os.WriteFile(p, blob, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		filepath.Join(dir, "inside.bin"):        filepath.Join("sub", "real.bin"),
		filepath.Join(dir, "weights.bin"):       filepath.Join(elsewhere, "secret.bin"),
		filepath.Join(dir, "relative.bin"):      filepath.Join("..", "elsewhere", "secret.bin"),
		filepath.Join(dir, "out"):               elsewhere,
		filepath.Join(root, "model-link"):       dir,
		filepath.Join(dir, "dangling.bin"):      filepath.Join(root, "nothing"),
		filepath.Join(dir, "sub", "up.bin"):     filepath.Join("..", "inside.bin"),
		filepath.Join(dir, "sub", "escape.bin"): filepath.Join("..", "..", "elsewhere", "secret.bin"),
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Skipf("symbolic links unavailable: %v", err)
		}
	}
	for i, test := range []struct {
		dir, location string
		outside       bool   // want ErrOutsideFolder
		want          string // other error text; "" with !outside for success
	}{
		{dir, "inside.bin", false, ""},
		{dir, "sub/up.bin", false, ""},
		{filepath.Join(root, "model-link"), "inside.bin", false, ""},
		{dir, "weights.bin", true, ""},
		{dir, "relative.bin", true, ""},
		{dir, "out/secret.bin", true, ""},
		{dir, "sub/escape.bin", true, ""},
		{filepath.Join(root, "model-link"), "weights.bin", true, ""},
		{dir, "dangling.bin", false, "no such file"},
		{dir, "sub", false, "not a regular file"},
	} {
		got, err := DecodeTensor(external(test.location), test.dir)
		switch {
		case test.outside && !errors.Is(err, ErrOutsideFolder):
			t.Errorf("%d: %s in %s: got %v, want ErrOutsideFolder", i, test.location, test.dir, err)
		case test.outside && !strings.Contains(err.Error(), "outside"):
			t.Errorf("%d: %s: error %q does not say the data is outside the folder", i, test.location, err)
		case test.outside:
		case test.want != "" && (err == nil || !strings.Contains(err.Error(), test.want)):
			t.Errorf("%d: %s: got %v, want an error containing %q", i, test.location, err, test.want)
		case test.want == "" && err != nil:
			t.Errorf("%d: %s: %v", i, test.location, err)
		case test.want == "" && !slices.Equal(got.Float, []float32{1.5, -2}):
			t.Errorf("%d: %s: read %v, want [1.5 -2]", i, test.location, got.Float)
		}
	}
}

// TestExternalDataFIFO refuses a named pipe as external data: opening one
// would block until a writer came.
func TestExternalDataFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.bin"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	_, err := DecodeTensor(external("pipe.bin"), dir)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("got %v, want ErrInvalid saying the pipe is not a regular file", err)
	}
}

// TestExternalDataLengthBeyondFile refuses an external length or offset
// past the file's end before allocating that many bytes.
func TestExternalDataLengthBeyondFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 8), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][]string{
		{"length", "4611686018427387904"},
		{"offset", "4611686018427387904"},
		{"offset", "4", "length", "9223372036854775807"},
		{"length", "-5"},
	} {
		_, err := DecodeTensor(external("w.bin", kv...), dir)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: got %v, want ErrInvalid", kv, err)
		}
	}
}

// TestDecodeTensorHugeDims refuses dims whose product overflows or passes
// 2^40, even where the data present matches the wrapped-around count.
func TestDecodeTensorHugeDims(t *testing.T) {
	for _, dims := range [][]int64{{1 << 62, 4}, {1 << 31, 1 << 31}, {0, 1 << 62, 1 << 62}, {1 << 41}} {
		tp := &TensorProto{Name: proto.String("t"), DataType: dtype(TensorProto_FLOAT), Dims: dims, RawData: []byte{}}
		if _, err := DecodeTensor(tp, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("dims %v: got %v, want ErrInvalid", dims, err)
		}
	}
}

// TestMessagesStayOnOneLine gives names with newlines and control
// characters where a model controls them: every message stays one line.
func TestMessagesStayOnOneLine(t *testing.T) {
	n := &Node{OpType: "Max\nPool\x1b[2J", Name: "evil\nname"}
	if s := n.String(); strings.ContainsAny(s, "\n\x1b") {
		t.Errorf("Node.String() = %q, want the op type and name quoted", s)
	}
	if s := (&Node{OpType: "Conv", Name: "c"}).String(); s != `Conv "c"` {
		t.Errorf("a plain node prints as %q, want %q", s, `Conv "c"`)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a\nb.bin"), make([]byte, 4), 0o644); err != nil {
		t.Skipf("no newlines in file names here: %v", err)
	}
	_, err := DecodeTensor(external("a\nb.bin", "offset", "2", "length", "8"), dir)
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %q, want a one-line error", err)
	}
}
