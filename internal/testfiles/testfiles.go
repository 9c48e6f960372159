// Package testfiles provides the tests of several packages with the
// committed test assets under testdata/: PyTorch's reference arrays and the
// real Fashion-MNIST slice. It is imported only by _test files.
package testfiles

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/onnx"
)

// Root is the repository's root folder.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path returns the path of a file under testdata/.
func Path(elem ...string) string {
	return filepath.Join(append([]string{Root(), "testdata"}, elem...)...)
}

// ReadNpy reads a float32 .npy file and its shape, failing the test on
// any error.
func ReadNpy(t testing.TB, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var v []float32
	if err := r.Read(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v, r.Header.Descr.Shape
}

// FashionSlice returns the first n images (n ≤ 1000) of the committed
// Fashion-MNIST test slice as n×1×28×28 pixels in [0,1], and their labels,
// read through the project's own IDX reader.
func FashionSlice(t testing.TB, n int) ([]float32, []int) {
	t.Helper()
	src, err := dataset.Open(Path("fashion", "t10k-images-1000-idx3-ubyte.gz"), &dataset.Options{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b dataset.Batch
	if err := src.Next(&b, n); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if b.N != n {
		t.Fatalf("the Fashion-MNIST slice gave %d images, want %d", b.N, n)
	}
	return b.X, b.Labels
}

// FuzzModelBytes fuzzes check with arbitrary bytes read as a model,
// starting from the bytes of the named models of testdata/models; bytes
// that do not parse are not checked.
func FuzzModelBytes(f *testing.F, names []string, check func(*testing.T, *onnx.Model)) {
	f.Helper()
	for _, name := range names {
		data, err := os.ReadFile(Path("models", name+".onnx"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := onnx.Parse(data, dir); err == nil {
			check(t, m)
		}
	})
}
