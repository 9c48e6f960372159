package dataset

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestCIFAR(t *testing.T) {
	dir := t.TempDir()
	// Batches of 3, 4 and 2 records, named so that a string sort would put
	// data_batch_10 before data_batch_2.
	writeFile(t, filepath.Join(dir, "data_batch_1.bin"), cifarBytes(0, 3))
	writeFile(t, filepath.Join(dir, "data_batch_2.bin"), cifarBytes(3, 4))
	writeFile(t, filepath.Join(dir, "data_batch_10.bin"), cifarBytes(7, 2))
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarBytes(100, 5))
	writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte("airplane\nautomobile\n\n"))
	t.Run("folder", func(t *testing.T) {
		checkSource(t, func(opt *Options) (Source, error) { return Open(dir, opt) }, 9, 3, 32, 32, mod10)
	})
	t.Run("file", func(t *testing.T) {
		checkSource(t, func(opt *Options) (Source, error) { return Open(filepath.Join(dir, "data_batch_1.bin"), opt) }, 3, 3, 32, 32, mod10)
	})
	src, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got, want := src.(ClassNamer).Classes(), []string{"airplane", "automobile"}; !slices.Equal(got, want) {
		t.Errorf("Classes() = %q; want %q from batches.meta.txt", got, want)
	}
}

func TestCIFARTestBatchOnly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarBytes(0, 5))
	checkSource(t, func(opt *Options) (Source, error) { return Open(dir, opt) }, 5, 3, 32, 32, mod10)
}

func TestCIFARErrors(t *testing.T) {
	for _, test := range []struct {
		name  string
		files map[string][]byte
		open  string
		opt   *Options
		says  []string
	}{
		{"short file", map[string][]byte{"test_batch.bin": cifarBytes(0, 2)[:5000]}, "test_batch.bin", nil,
			[]string{"test_batch.bin is 5000 bytes", "3073-byte CIFAR-10 record"}},
		{"one short batch in a folder", map[string][]byte{"data_batch_1.bin": cifarBytes(0, 2), "data_batch_2.bin": cifarBytes(2, 2)[:3074]}, ".", nil,
			[]string{"data_batch_2.bin is 3074 bytes", "CIFAR-100"}},
		{"empty", map[string][]byte{"x.bin": nil}, "x.bin", nil, []string{"x.bin is 0 bytes"}},
		{"labels option", map[string][]byte{"x.bin": cifarBytes(0, 1)}, "x.bin", &Options{Labels: "labels.npy"}, []string{"separate labels file", "IDX and .npy"}},
	} {
		dir := t.TempDir()
		for name, data := range test.files {
			writeFile(t, filepath.Join(dir, name), data)
		}
		_, err := Open(filepath.Join(dir, test.open), test.opt)
		wantError(t, test.name, err, test.says...)
	}
}
