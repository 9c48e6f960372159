package interp

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestRecycledStorage checks the lifetimes behind storage recycling on
// models whose values share storage (Flatten, Reshape, residual Adds):
// what a call returns, and its input, stay as they were through later
// calls, and a call repeated gives the same figures.
func TestRecycledStorage(t *testing.T) {
	clone := func(ts ...*Tensor) [][]float32 {
		out := make([][]float32, len(ts))
		for i, v := range ts {
			if v != nil {
				out[i] = slices.Clone(v.Data)
			}
		}
		return out
	}
	same := func(ts []*Tensor, want [][]float32) bool {
		for i, v := range ts {
			if (v == nil) != (want[i] == nil) || v != nil && !slices.Equal(v.Data, want[i]) {
				return false
			}
		}
		return true
	}
	for _, name := range []string{"fmnist_cnn", "resblock", "mobile", "normalized", "dropout", "opset7_mlp"} {
		p := loadProgram(t, name)
		var x *Tensor
		if name == "fmnist_cnn" {
			x = fashionSlice(t, 4)
		} else {
			x = readNpy(t, filepath.Join(modelDir, name+".input.npy"))
		}
		labels := make([]int, x.Shape[0])
		other := &Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
		for i, v := range x.Data {
			other.Data[i] = 0.5 - v
		}
		inputBefore := slices.Clone(x.Data)
		r, err := p.Grad(x, labels, Want{Input: true, Params: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		outs, err := p.Run(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		returned := append([]*Tensor{r.Logits, r.Input}, append(r.Params, outs...)...)
		want := clone(returned...)
		for _, want := range []Want{{Input: true}, {Params: true}, {Input: true, Params: true}} {
			if _, err := p.Grad(other, labels, want); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, err := p.Run(other); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if !same(returned, want) {
			t.Errorf("%s: later calls changed what an earlier call returned", name)
		}
		if !slices.Equal(x.Data, inputBefore) {
			t.Errorf("%s: the calls changed their input", name)
		}
		r2, err := p.Grad(x, labels, Want{Input: true, Params: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		outs2, err := p.Run(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !same(append([]*Tensor{r2.Logits, r2.Input}, append(r2.Params, outs2...)...), want) {
			t.Errorf("%s: the same call on recycled storage gave different figures", name)
		}
	}
}

func TestOverlaps(t *testing.T) {
	buf := make([]float32, 10)
	for i, test := range []struct {
		a, b []float32
		want bool
	}{
		{buf, buf, true},
		{buf[:5], buf[5:], false},
		{buf[:6], buf[5:], true},
		{buf[2:3], buf, true},
		{buf[9:], buf[:9], false},
		{buf[:0], buf, false},
		{buf, make([]float32, 10), false},
	} {
		if got := overlaps(test.a, test.b); got != test.want || overlaps(test.b, test.a) != test.want {
			t.Errorf("%d: overlaps = %v, want %v", i, got, test.want)
		}
	}
}
