package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleByte is the byte value of pixel (ch, y, x) of sample i in the
// generated data sets.
func sampleByte(i, ch, y, x int) byte { return byte(i*37 + ch*101 + y*13 + x*7) }

// samplePlanes returns sample i as c planes of h×w bytes.
func samplePlanes(i, c, h, w int) []byte {
	b := make([]byte, 0, c*h*w)
	for ch := range c {
		for y := range h {
			for x := range w {
				b = append(b, sampleByte(i, ch, y, x))
			}
		}
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// idxBytes returns an IDX file with the given magic and dimensions.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

// mnistLike returns the IDX images and labels of n generated h×w samples
// with labels i%10.
func mnistLike(n, h, w int) (images, labels []byte) {
	var px, lb []byte
	for i := range n {
		px = append(px, samplePlanes(i, 1, h, w)...)
		lb = append(lb, byte(i%10))
	}
	return idxBytes(0x803, []int{n, h, w}, px), idxBytes(0x801, []int{n}, lb)
}

// cifarBytes returns n generated CIFAR-10 records, the first being sample
// first, with labels i%10.
func cifarBytes(first, n int) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		b = append(b, byte(i%10))
		b = append(b, samplePlanes(i, 3, 32, 32)...)
	}
	return b
}

// npyBytes returns a version 1.0 .npy file as numpy writes it.
func npyBytes(descr string, shape []int, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
	b = append(b, header...)
	return append(b, data...)
}

func float32Bytes(v []float32) []byte {
	b, _ := binary.Append(nil, binary.LittleEndian, v)
	return b
}

// pngBytes encodes sample i as an opaque h×w PNG, grey when c is 1.
func pngBytes(t testing.TB, i, c, h, w int) []byte {
	t.Helper()
	var img image.Image
	if c == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				g.SetGray(x, y, color.Gray{sampleByte(i, 0, y, x)})
			}
		}
		img = g
	} else {
		rgb := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				rgb.SetNRGBA(x, y, color.NRGBA{sampleByte(i, 0, y, x), sampleByte(i, 1, y, x), sampleByte(i, 2, y, x), 255})
			}
		}
		img = rgb
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll streams src in batches of size max, checking that each batch
// follows the last, and returns the samples in order with their indices.
func readAll(t *testing.T, src Source, max int) (x []float32, labels, index []int) {
	t.Helper()
	c, h, w := src.Dims()
	var b Batch
	for {
		err := src.Next(&b, max)
		if err == io.EOF {
			if b.N != 0 || len(b.X) != 0 {
				t.Errorf("at io.EOF batch holds N=%d, %d pixels; want none", b.N, len(b.X))
			}
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if b.N < 1 || b.N > max || b.C != c || b.H != h || b.W != w || len(b.X) != b.N*c*h*w {
			t.Fatalf("batch N=%d %dx%dx%d with %d pixels; want 1 to %d samples of %dx%dx%d", b.N, b.C, b.H, b.W, len(b.X), max, c, h, w)
		}
		if src.Labelled() != (b.Labels != nil) || b.Labels != nil && len(b.Labels) != b.N {
			t.Fatalf("batch has %d labels (nil %t) for %d samples; Labelled() = %t", len(b.Labels), b.Labels == nil, b.N, src.Labelled())
		}
		if len(index) > 0 && b.Start != index[len(index)-1]+1 {
			t.Fatalf("batch starts at %d; want %d, after the last", b.Start, index[len(index)-1]+1)
		}
		x = append(x, b.X...)
		labels = append(labels, b.Labels...)
		for i := range b.N {
			index = append(index, b.Start+i)
		}
	}
	if err := src.Next(&b, max); err != io.EOF {
		t.Errorf("Next after the end: %v; want io.EOF", err)
	}
	if len(index) != src.Len() {
		t.Errorf("read %d samples; Len() = %d", len(index), src.Len())
	}
	return x, labels, index
}

// mod10 is the label of sample i in most generated data sets.
func mod10(i int) int { return i % 10 }

// checkSource runs the checks every Source passes on a generated data set
// of n samples whose sample i is samplePlanes(i, ...) with label label(i),
// nil when unlabelled: streaming in batches that do not divide n, Limit,
// and shards that cover every sample once.
func checkSource(t *testing.T, open func(opt *Options) (Source, error), n, c, h, w int, label func(int) int) {
	t.Helper()
	chw := c * h * w
	check := func(name string, opt *Options, max, lo, hi int) []int {
		t.Helper()
		src, err := open(opt)
		if err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		defer src.Close()
		if gc, gh, gw := src.Dims(); gc != c || gh != h || gw != w {
			t.Errorf("%s: Dims() = %d, %d, %d; want %d, %d, %d", name, gc, gh, gw, c, h, w)
		}
		if src.Len() != hi-lo {
			t.Errorf("%s: Len() = %d; want %d", name, src.Len(), hi-lo)
		}
		x, labels, index := readAll(t, src, max)
		for k, i := range index {
			if i != lo+k {
				t.Fatalf("%s: sample %d has index %d; want %d", name, k, i, lo+k)
			}
			for p, b := range samplePlanes(i, c, h, w) {
				if got := x[k*chw+p]; got != float32(b)/255 {
					t.Fatalf("%s: sample %d, pixel %d = %v; want %v", name, i, p, got, float32(b)/255)
				}
			}
			if label == nil {
				continue
			}
			if labels == nil {
				t.Fatalf("%s: no labels; want some", name)
			}
			if labels[k] != label(i) {
				t.Fatalf("%s: sample %d has label %d; want %d", name, i, labels[k], label(i))
			}
		}
		if err := src.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
		if err := src.Next(&Batch{}, 1); err == nil {
			t.Errorf("%s: Next after Close gave no error", name)
		}
		return index
	}
	for _, max := range []int{1, 3, n, n + 5} {
		check(fmt.Sprintf("batch %d", max), nil, max, 0, n)
	}
	check("limit", &Options{Limit: n / 2}, 2, 0, n/2)
	check("limit above n", &Options{Limit: n + 1}, 4, 0, n)
	for _, shards := range []int{1, 2, 3, n} {
		seen := make([]int, n)
		for s := range shards {
			for _, i := range check(fmt.Sprintf("shard %d of %d", s, shards), &Options{Shard: s, Shards: shards}, 2, s*n/shards, (s+1)*n/shards) {
				seen[i]++
			}
		}
		for i, k := range seen {
			if k != 1 {
				t.Errorf("%d shards read sample %d %d times; want once", shards, i, k)
			}
		}
	}
	check("shard then limit", &Options{Shard: 1, Shards: 2, Limit: 1}, 3, n/2, n/2+1)
}

// wantError checks that err is not nil and says every one of says.
func wantError(t *testing.T, name string, err error, says ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error; want one saying %q", name, says)
		return
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q does not say %q", name, err, s)
		}
	}
}
