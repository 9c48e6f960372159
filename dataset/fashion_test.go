package dataset

import (
	"fmt"
	"io"
	"os"
	"testing"
)

// fashionTest is the Fashion-MNIST test set as Debian's dataset-fashion-mnist
// package installs it; its labels file lies beside it.
const fashionTest = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

func openFashion(tb testing.TB) Source {
	tb.Helper()
	if _, err := os.Stat(fashionTest); err != nil {
		tb.Skipf("%s is absent; it comes from Debian's dataset-fashion-mnist package", fashionTest)
	}
	src, err := Open(fashionTest, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

func TestFashionMNIST(t *testing.T) {
	src := openFashion(t)
	defer src.Close()
	if c, h, w := src.Dims(); c != 1 || h != 28 || w != 28 || src.Len() != 10000 || !src.Labelled() {
		t.Fatalf("Fashion-MNIST test set: %d samples of %dx%dx%d, labelled %t; want 10000 labelled of 1x28x28", src.Len(), c, h, w, src.Labelled())
	}
	x, labels, _ := readAll(t, src, 999)
	var hist [10]int
	for _, l := range labels {
		if l < 0 || l > 9 {
			t.Fatalf("label %d; want 0 to 9", l)
		}
		hist[l]++
	}
	for class, k := range hist {
		if k != 1000 {
			t.Errorf("class %d has %d samples; want 1000 (histogram %v)", class, k, hist)
		}
	}
	var lo, hi, sum float32 = 1, 0, 0
	for _, v := range x {
		lo, hi, sum = min(lo, v), max(hi, v), sum+v
	}
	// Fashion-MNIST pixels span 0 to 255 and average about 73 of 255.
	if mean := sum / float32(len(x)); lo != 0 || hi != 1 || mean < 0.25 || mean > 0.32 {
		t.Errorf("pixels span [%v, %v] with mean %v; want [0, 1] and about 0.286", lo, hi, mean)
	}
}

func BenchmarkFashionMNIST(b *testing.B) {
	for _, batch := range []int{1, 64, 1000} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) { benchmarkFashion(b, batch) })
	}
}

// benchmarkFashion reads the whole gzipped test set in batches of size batch.
func benchmarkFashion(b *testing.B, batch int) {
	b.SetBytes(10000 * 28 * 28)
	var dst Batch
	for b.Loop() {
		src := openFashion(b)
		err := src.Next(&dst, batch)
		for err == nil {
			err = src.Next(&dst, batch)
		}
		src.Close()
		if err != io.EOF {
			b.Fatal(err)
		}
	}
}
