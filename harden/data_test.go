package harden

import (
	"slices"
	"testing"
)

func TestEpochOrder(t *testing.T) {
	a, b := epochOrder(100, 7, 3), epochOrder(100, 7, 3)
	if !slices.Equal(a, b) {
		t.Error("the same seed and epoch gave different orders")
	}
	sorted := slices.Sorted(slices.Values(a))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("epoch order is not a permutation of 0..99: %v", a)
		}
	}
	if slices.Equal(a, epochOrder(100, 7, 4)) || slices.Equal(a, epochOrder(100, 8, 3)) {
		t.Error("another epoch or seed gave the same order")
	}
	seen := map[uint64]bool{}
	for e := range 3 {
		for s := range 100 {
			seen[stepSeed(7, e, s)] = true
		}
	}
	if len(seen) != 300 {
		t.Errorf("300 steps got %d distinct seeds", len(seen))
	}
}

// classSorted returns n samples of one pixel whose labels come in class
// order, as an image folder's do; each pixel is its sample's index.
func classSorted(n, classes int) *Data {
	d := &Data{N: n, C: 1, H: 1, W: 1}
	for i := range n {
		d.X = append(d.X, float32(i))
		d.Labels = append(d.Labels, i*classes/n)
	}
	return d
}

func TestSplit(t *testing.T) {
	d := classSorted(1000, 10)
	train, val, err := d.Split(0.1)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 900 || val.N != 100 {
		t.Fatalf("split 0.1 of 1000: %d training and %d validation samples, want 900 and 100", train.N, val.N)
	}
	all := append(append([]float32(nil), train.X...), val.X...)
	slices.Sort(all)
	for i, v := range all {
		if v != float32(i) {
			t.Fatalf("the two parts do not cover the data exactly once (at %d: %g)", i, v)
		}
	}
	for _, part := range []*Data{train, val} {
		if !slices.IsSorted(part.X) {
			t.Error("a part does not keep the data's order")
		}
		for i, x := range part.X {
			if part.Labels[i] != int(x)*10/1000 {
				t.Fatalf("sample %g has label %d, want %d", x, part.Labels[i], int(x)*10/1000)
			}
		}
	}
	classes := map[int]int{}
	for _, y := range val.Labels {
		classes[y]++
	}
	if len(classes) < 8 {
		t.Errorf("the validation part of class-sorted data holds %d of 10 classes: %v", len(classes), classes)
	}
	_, val2, _ := d.Split(0.1)
	if !slices.Equal(val.X, val2.X) {
		t.Error("the split is not deterministic")
	}
	for _, frac := range []float64{0, 1, -0.5} {
		if _, _, err := d.Split(frac); err == nil {
			t.Errorf("split %g: no error", frac)
		}
	}
}
