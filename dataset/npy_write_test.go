package dataset

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteNpyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	data := make([]float32, 2*1*3*4)
	for i := range data {
		data[i] = float32(i) / float32(len(data))
	}
	if err := WriteNpy(path, data, []int{2, 1, 3, 4}); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if c, h, w := src.Dims(); c != 1 || h != 3 || w != 4 || src.Len() != 2 {
		t.Fatalf("read back dims %d×%d×%d, %d samples; want 1×3×4, 2", c, h, w, src.Len())
	}
	var b Batch
	if err := src.Next(&b, 10); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		if b.X[i] != data[i] {
			t.Fatalf("value %d = %v, want %v", i, b.X[i], data[i])
		}
	}
	if err := src.Next(&b, 10); err != io.EOF {
		t.Errorf("second Next: %v, want EOF", err)
	}
	if err := WriteNpy(path, data, []int{5}); err == nil || !strings.Contains(err.Error(), "24 values for shape [5]") {
		t.Errorf("shape mismatch: got %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want only x.npy", len(entries))
	}
}

func TestWriteNpyHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.npy")
	if err := WriteNpy(path, []float32{1, 2, 3}, []int{3}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	hlen := int(data[8]) | int(data[9])<<8
	if (10+hlen)%64 != 0 || data[10+hlen-1] != '\n' || !strings.Contains(string(data[10:10+hlen]), "'shape': (3,)") {
		t.Errorf("header %q is not a NumPy 1.0 header for shape (3,)", data[:10+hlen])
	}
	if len(data) != 10+hlen+12 {
		t.Errorf("file is %d bytes, want %d", len(data), 10+hlen+12)
	}
}

func TestNpyWriterStreams(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.npy")
	w, err := CreateNpy(path, []int{3, 1, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range [][]float32{{0, 0.1}, {0.2, 0.3, 0.4}, {0.5}} {
		if err := w.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists before Close: %v", path, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b Batch
	if err := src.Next(&b, 10); err != nil || b.N != 3 || b.X[5] != 0.5 {
		t.Fatalf("read back %d samples, %v, err %v", b.N, b.X, err)
	}

	short := filepath.Join(dir, "short.npy")
	w, err = CreateNpy(short, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]float32{1, 2})
	if err := w.Write([]float32{3, 4, 5}); err == nil {
		t.Error("writing past the shape was accepted")
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "2 values written, the shape holds 4") {
		t.Errorf("closing a short array: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files left in the folder, want only s.npy", len(entries))
	}
}
