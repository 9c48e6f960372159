package ops

import (
	"math/rand/v2"
	"testing"
)

// TestRowBroadcast checks which operand shapes take the row-broadcast
// path, and that its outputs equal the indexed path's bit for bit.
func TestRowBroadcast(t *testing.T) {
	for i, test := range []struct {
		out, in []int
		inner   int
	}{
		{[]int{2, 3, 4, 5}, []int{2, 3, 1, 1}, 20},
		{[]int{2, 3, 4, 5}, []int{2, 1, 1, 1}, 60},
		{[]int{2, 3, 4, 5}, []int{3, 4, 5}, 0}, // leading axes broadcast
		{[]int{2, 3, 4, 5}, []int{1, 3, 1, 1}, 0},
		{[]int{2, 3, 4, 5}, []int{2, 3, 4, 5}, 0},
		{[]int{2, 3, 4, 5}, []int{2, 3, 4, 1}, 5},
		{[]int{2, 3, 4, 5}, []int{2, 1, 4, 1}, 0},
		{[]int{2, 3, 4, 5}, nil, 120},
		{[]int{2, 3, 4, 5}, []int{1}, 120},
		{[]int{1, 3, 4}, []int{1, 3, 1}, 4},
		{[]int{2, 1, 4}, []int{2, 1, 1}, 4},
	} {
		if got := rowInner(test.out, test.in); got != test.inner {
			t.Errorf("case %d: rowInner(%v, %v) = %d, want %d", i, test.out, test.in, got, test.inner)
		}
	}
	rng := rand.New(rand.NewPCG(8, 1))
	a, b := randTensor(rng, -2, 2, 2, 3, 4, 5), randTensor(rng, 0.5, 2, 2, 3, 1, 1)
	div := newOp(t, "Div", nil, 14, 2, 1).(binaryOp)
	for _, in := range [][2]*Tensor{{a, b}, {b, a}} {
		got, err := div.Forward(&State{}, in[:])
		if err != nil {
			t.Fatal(err)
		}
		ia, ib := broadcastIndex(got[0].Shape, in[0].Shape), broadcastIndex(got[0].Shape, in[1].Shape)
		for k, v := range got[0].Data {
			if w := div.f(in[0].Data[srcAt(ia, k)], in[1].Data[srcAt(ib, k)]); v != w {
				t.Fatalf("%v / %v: element %d is %g, want %g", in[0].Shape, in[1].Shape, k, v, w)
			}
		}
	}
}
