package dataset

import (
	"io"
	"path/filepath"
	"testing"
)

func TestIDX(t *testing.T) {
	const n, h, w = 11, 5, 4
	images, labels := mnistLike(n, h, w)
	for _, test := range []struct {
		name     string
		compress bool
	}{{"plain", false}, {"gzip", true}} {
		t.Run(test.name, func(t *testing.T) {
			dir := t.TempDir()
			im, lb := images, labels
			suffix := ""
			if test.compress {
				im, lb, suffix = gzipBytes(t, im), gzipBytes(t, lb), ".gz"
			}
			path := writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"+suffix), im)
			writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"+suffix), lb)
			checkSource(t, func(opt *Options) (Source, error) { return Open(path, opt) }, n, 1, h, w, mod10)
		})
	}
}

func TestIDXLabels(t *testing.T) {
	dir := t.TempDir()
	images, labels := mnistLike(3, 2, 2)
	// gzip is told by its magic bytes, not by the name.
	path := writeFile(t, filepath.Join(dir, "images-idx3-ubyte"), gzipBytes(t, images))
	other := writeFile(t, filepath.Join(dir, "mine.idx1-ubyte"), labels)
	for i, test := range []struct {
		opt      *Options
		labelled bool
	}{
		{nil, false}, // no sibling named *labels-idx1*
		{&Options{Labels: other}, true},
	} {
		src, err := Open(path, test.opt)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if src.Labelled() != test.labelled {
			t.Errorf("case %d: Labelled() = %t; want %t", i, src.Labelled(), test.labelled)
		}
		src.Close()
	}
}

func TestIDXErrors(t *testing.T) {
	images, labels := mnistLike(4, 3, 3)
	for _, test := range []struct {
		name           string
		images, labels []byte
		says           []string
	}{
		{"bad magic", append([]byte{0x50, 0x4b, 3, 4}, images[4:]...), labels,
			[]string{"bad magic bytes 50 4b 03 04", "starts with 00 00 08 03"}},
		{"labels given as images", labels, labels, []string{"labels file", "pass the images file"}},
		{"float elements", append([]byte{0, 0, 0x0d, 3}, images[4:]...), labels, []string{"float32", "not supported", "want uint8"}},
		{"two dims", idxBytes(0x802, []int{4, 9}, images[16:]), labels, []string{"2 dims", "has 3"}},
		{"truncated images", images[:len(images)-10], labels, []string{"truncated", "header says 4 samples of 3x3", "ends in sample 2"}},
		{"truncated gzip images", gzipBytes(t, images[:len(images)-10]), labels, []string{"truncated", "ends in sample 2"}},
		{"short header", images[:6], labels, []string{"IDX header ends"}},
		{"empty", nil, labels, []string{"empty file"}},
		{"count mismatch", images, idxBytes(0x801, []int{3}, labels[8:11]), []string{"has 3 labels", "has 4 images", "does not belong"}},
		{"bad labels magic", images, append([]byte{0, 0, 8, 3}, labels[4:]...), []string{"t10k-labels-idx1-ubyte", "IDX labels file has 1"}},
		{"truncated labels", images, labels[:len(labels)-1], []string{"t10k-labels-idx1-ubyte", "truncated", "ends in sample 3"}},
		// A few bytes of gzip declaring samples of 32768×32768 pixels: a
		// batch of one would take 4 GB.
		{"huge gzip samples", gzipBytes(t, idxBytes(0x803, []int{1, 1 << 15, 1 << 15}, nil)), labels,
			[]string{"32768x32768 bytes", "more than the 1 megapixel"}},
	} {
		dir := t.TempDir()
		path := writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), test.images)
		writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), test.labels)
		src, err := Open(path, nil)
		if err == nil { // a gzip stream is only known to be short once read
			_, err = drain(src, 3)
		}
		wantError(t, test.name, err, test.says...)
	}
}

// drain reads src to its end, closes it and returns how many samples it
// served and the first error other than io.EOF.
func drain(src Source, max int) (n int, err error) {
	defer src.Close()
	var b Batch
	for {
		if err := src.Next(&b, max); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n += b.N
	}
}
