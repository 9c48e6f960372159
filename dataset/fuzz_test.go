package dataset

import (
	"bytes"
	"compress/gzip"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets feed arbitrary bytes to each reader through Open, as a
// file on disk, and read every sample: any input must give samples or an
// error, never a panic, a hang or an allocation beyond what the file
// holds. Seeds are in testdata/fuzz/<target>/; go test runs them as
// tests, make fuzz mutates them.

// readEvery opens path and reads every sample in batches of 7, checking
// what a Source promises: samples of the declared size, pixels in [0,1].
func readEvery(t *testing.T, path string, opt *Options) {
	src, err := Open(path, opt)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
		return
	}
	defer src.Close()
	c, h, w := src.Dims()
	if c < 1 || h < 1 || w < 1 {
		t.Fatalf("opened with dims %dx%dx%d", c, h, w)
	}
	var b Batch
	seen := 0
	for {
		err := src.Next(&b, 7)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return
		}
		if len(b.X) < b.N*c*h*w {
			t.Fatalf("batch of %d samples has %d pixels, want %d", b.N, len(b.X), b.N*c*h*w)
		}
		for _, p := range b.X[:b.N*c*h*w] {
			if !(p >= 0 && p <= 1) {
				t.Fatalf("pixel %v outside [0,1]", p)
			}
		}
		if seen += b.N; seen > src.Len() {
			t.Fatalf("read %d samples, Len says %d", seen, src.Len())
		}
	}
	if seen != src.Len() {
		t.Fatalf("read %d samples, Len says %d", seen, src.Len())
	}
}

func gzipped(data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(0x803, []int{2, 3, 4}, make([]byte, 24)), idxBytes(0x801, []int{2}, []byte{1, 9}), false)
	f.Add(idxBytes(0x803, []int{1, 2, 2}, []byte{0, 64, 128, 255}), []byte(nil), true)
	f.Add(idxBytes(0x803, []int{1 << 30, 2, 2}, nil), []byte(nil), false)
	f.Fuzz(func(t *testing.T, images, labels []byte, gz bool) {
		dir := t.TempDir()
		name := "x-images-idx3-ubyte"
		if gz {
			images, name = gzipped(images), name+".gz"
		}
		path := filepath.Join(dir, name)
		os.WriteFile(path, images, 0o644)
		if labels != nil {
			os.WriteFile(filepath.Join(dir, "x-labels-idx1-ubyte"), labels, 0o644)
		}
		readEvery(t, path, &Options{Limit: 64})
	})
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarBytes(0, 1), uint8(0))
	f.Add(cifarBytes(3, 2), uint8(1))
	f.Add([]byte{10}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, shards uint8) {
		path := filepath.Join(t.TempDir(), "data_batch_1.bin")
		os.WriteFile(path, data, 0o644)
		opt := &Options{Limit: 64}
		if n := int(shards % 4); n > 1 {
			opt.Shard, opt.Shards = n-1, n
		}
		readEvery(t, path, opt)
	})
}

func FuzzNPY(f *testing.F) {
	f.Add(npyBytes("<f4", []int{2, 1, 2, 2}, float32Bytes(make([]float32, 8))), npyBytes("<i8", []int{2}, npyLabels(2, "<i8")))
	f.Add(npyBytes("|u1", []int{3, 2, 2, 3}, make([]byte, 36)), npyBytes("|u1", []int{3}, []byte{0, 1, 2}))
	f.Add(npyBytes("<U5", []int{2}, make([]byte, 40)), []byte(nil))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{"), []byte(nil))
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.npy")
		os.WriteFile(path, images, 0o644)
		opt := &Options{Limit: 64}
		if labels != nil {
			opt.Labels = filepath.Join(dir, "y.npy")
			os.WriteFile(opt.Labels, labels, 0o644)
		}
		readEvery(t, path, opt)
	})
}

// FuzzImage decodes one file of a class folder, as PNG and as JPEG, at a
// fixed size and at the file's own.
func FuzzImage(f *testing.F) {
	f.Add(pngBytes(f, 0, 1, 3, 5), false, uint8(0))
	f.Add(pngBytes(f, 1, 3, 4, 4), false, uint8(3))
	f.Add(hugePNG(f, 30000, 30000), false, uint8(1))
	f.Add(jpegBytes(f, 6, 3), true, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, isJPEG bool, mode uint8) {
		dir := t.TempDir()
		name := "a.png"
		if isJPEG {
			name = "a.jpg"
		}
		if err := os.Mkdir(filepath.Join(dir, "cat"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "cat", name), data, 0o644)
		opt := &Options{Channels: []int{1, 3}[mode%2]}
		if mode&2 != 0 {
			opt.Height, opt.Width = 5, 7
		}
		readEvery(t, dir, opt)
	})
}

// jpegBytes encodes an h×w colour JPEG.
func jpegBytes(t testing.TB, h, w int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 13)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
