package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestErfOfQuotient checks the joined Div and Erf of GELU: against central
// differences, and against the two ops apart bit for bit, forward and
// backward (both gradients), and that it keeps x alone for x's gradient.
func TestErfOfQuotient(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 6))
	var fused Op
	for _, f := range Fusions() {
		if f.First == "Div" && f.Then == "Erf" {
			var ok bool
			if fused, ok = f.Join(nil, nil, [][]int{{-1, 3, 4}, nil}, false); !ok {
				t.Fatal("Div+Erf refuses a divisor of one element")
			}
			if _, ok := f.Join(nil, nil, [][]int{{-1, 3, 4}, {4}}, false); ok {
				t.Error("Div+Erf joins a divisor of four elements")
			}
			if _, ok := f.Join(nil, nil, [][]int{{-1, 3, 4}, {-1, 1, 1}}, false); ok {
				t.Error("Div+Erf joins a divisor that follows the batch")
			}
			if _, ok := f.Join(nil, nil, [][]int{{-1, 3, 4}, {1, 1}}, false); !ok {
				t.Error("Div+Erf refuses a divisor of shape 1×1")
			}
		}
	}
	if fused == nil {
		t.Fatal("no rule joins Div and Erf")
	}
	for _, c := range []float32{1.4142135, -0.7} {
		x, cv := randTensor(rng, -3, 3, 2, 3, 4), &Tensor{Shape: []int{}, Data: []float32{c}}
		gradCheck(t, "erf(x/c)", fused, []*Tensor{x, cv})

		dy := randTensor(rng, -1, 1, 2, 3, 4)
		div, erf := newOp(t, "Div", nil, 14, 2, 1), newOp(t, "Erf", nil, 13, 1, 1)
		sd, se, sf := &State{Grad: true}, &State{Grad: true}, &State{Grad: true}
		u, _ := div.Forward(sd, []*Tensor{x, cv})
		want, _ := erf.Forward(se, u)
		got, err := fused.Forward(sf, []*Tensor{x, cv})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[0].Data, want[0].Data) {
			t.Errorf("c %v: erf(x/c) differs from Erf(Div(x, c))", c)
		}
		du, _ := erf.Backward(se, []*Tensor{dy})
		dwant, _ := div.Backward(sd, du)
		dgot, err := fused.Backward(sf, []*Tensor{dy})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if !slices.Equal(dgot[i].Data, dwant[i].Data) {
				t.Errorf("c %v: gradient %d is %v joined, %v apart", c, i, dgot[i].Data, dwant[i].Data)
			}
		}

		s := &State{Grad: true, Need: []bool{true, false}}
		y, _ := fused.Forward(s, []*Tensor{x, cv})
		restore := poisonUnsaved(s, []*Tensor{x, cv}, y)
		only, err := fused.Backward(s, []*Tensor{dy})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		if only[1] != nil || !slices.Equal(only[0].Data, dwant[0].Data) {
			t.Errorf("c %v: with x's gradient alone wanted got %v, want %v and no divisor gradient", c, only, dwant[0].Data)
		}
	}
}
