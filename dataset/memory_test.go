package dataset

import (
	"io"
	"slices"
	"testing"
)

func TestFromMemory(t *testing.T) {
	x := []float32{0, 0.1, 0.2, 0.3, 0.4, 0.5}
	src, err := FromMemory(x, []int{1, 2, 3}, 3, 1, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var b Batch
	if err := src.Next(&b, 2); err != nil || b.N != 2 || !slices.Equal(b.X, x[:4]) || !slices.Equal(b.Labels, []int{1, 2}) {
		t.Fatalf("first batch %+v, %v", b, err)
	}
	if err := src.Next(&b, 2); err != nil || b.N != 1 || b.Start != 2 || b.Labels[0] != 3 {
		t.Fatalf("second batch %+v, %v", b, err)
	}
	if err := src.Next(&b, 2); err != io.EOF {
		t.Errorf("third Next: %v, want EOF", err)
	}
	if _, err := FromMemory(x, []int{1}, 3, 1, 1, 2); err == nil {
		t.Error("3 samples with 1 label accepted")
	}
	if _, err := FromMemory(x, nil, 2, 1, 1, 2); err == nil {
		t.Error("6 values for 2 samples of 2 accepted")
	}
}
