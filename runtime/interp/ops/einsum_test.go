package ops

import (
	"math/rand/v2"
	"testing"
)

// TestEinsumGradients checks every operand's gradient for the equations
// attention, classifier heads and the node tests use, and for diagonals,
// broadcast ellipses and implicit outputs.
func TestEinsumGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 7))
	r := func(shape ...int) *Tensor { return randTensor(rng, -1, 1, shape...) }
	for _, test := range []struct {
		eq string
		in []*Tensor
	}{
		{"bij,bjk->bik", []*Tensor{r(2, 3, 4), r(2, 4, 2)}},
		{"bhid,bhjd->bhij", []*Tensor{r(1, 2, 3, 4), r(1, 2, 5, 4)}},
		{"bhij,bhjd->bhid", []*Tensor{r(1, 2, 3, 5), r(1, 2, 5, 4)}},
		{"bd,cd->bc", []*Tensor{r(3, 4), r(5, 4)}},
		{"ij,j->i", []*Tensor{r(3, 4), r(4)}},
		{"...ii->...i", []*Tensor{r(2, 3, 3)}},
		{"ii", []*Tensor{r(3, 3)}},
		{"ij->", []*Tensor{r(2, 3)}},
		{"i,i", []*Tensor{r(5), r(5)}},
		{"ij,jk", []*Tensor{r(2, 3), r(3, 2)}},
		{"...ij,...jk->...ik", []*Tensor{r(2, 1, 2, 3), r(3, 3, 2)}},
		{"b...,b->...", []*Tensor{r(2, 3), r(2)}},
		{"ij,ij,ij->ij", []*Tensor{r(2, 2), r(2, 2), r(2, 2)}},
	} {
		gradCheck(t, test.eq, newOp(t, "Einsum", attrs{"equation": test.eq}, 12, len(test.in), 1), test.in)
	}
}

// TestEinsumValues checks outputs against products written out.
func TestEinsumValues(t *testing.T) {
	run := func(eq string, in ...*Tensor) *Tensor {
		t.Helper()
		outs, err := newOp(t, "Einsum", attrs{"equation": eq}, 12, len(in), 1).Forward(&State{}, in)
		if err != nil {
			t.Fatalf("%s: %v", eq, err)
		}
		return outs[0]
	}
	a := nnFloats([]int{2, 2}, 1, 2, 3, 4)
	b := nnFloats([]int{2, 2}, 5, 6, 7, 8)
	closeTo(t, "ij,jk->ik", run("ij,jk->ik", a, b), nnFloats([]int{2, 2}, 19, 22, 43, 50))
	closeTo(t, "ij,jk (implicit, same)", run("ij,jk", a, b), nnFloats([]int{2, 2}, 19, 22, 43, 50))
	closeTo(t, "ji (implicit transpose: output labels sorted)", run("ji", a), nnFloats([]int{2, 2}, 1, 3, 2, 4))
	closeTo(t, "ii->i", run("ii->i", a), nnFloats([]int{2}, 1, 4))
	closeTo(t, "ij,ij->", run("ij,ij->", a, b), nnFloats(nil, 70))
	// A size-1 ellipsis axis broadcasts against a size-2 one.
	closeTo(t, "...j,...j->...", run("...j,...j->...", nnFloats([]int{1, 2}, 1, 1), b), nnFloats([]int{2}, 11, 15))
}

// TestEinsumRejects checks malformed equations and mismatched operands.
func TestEinsumRejects(t *testing.T) {
	for _, test := range []struct {
		eq  string
		nIn int
	}{
		{"", 1},
		{"ij->ii", 1},     // a repeated output label
		{"ij->k", 1},      // an output label in no input
		{"i,j->ij", 1},    // two terms, one input
		{"i1->i", 1},      // not a letter
		{"i..->i", 1},     // a broken ellipsis
		{"......i->i", 1}, // two ellipses
		{"ij->...", 1},    // an output ellipsis with none in the inputs
	} {
		if _, err := New(makeNode(t, "Einsum", attrs{"equation": test.eq}, test.nIn, 1), 12, ""); err == nil {
			t.Errorf("%q: accepted", test.eq)
		}
	}
	if _, err := New(makeNode(t, "Einsum", attrs{"equation": "ii"}, 1, 1), 11, ""); err == nil {
		t.Error("accepted at opset 11, before Einsum existed")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, test := range []struct {
		eq string
		in []*Tensor
	}{
		{"ij->i", []*Tensor{randTensor(rng, 0, 1, 2, 3, 4)}},                               // rank mismatch
		{"ij,jk->ik", []*Tensor{randTensor(rng, 0, 1, 2, 3), randTensor(rng, 0, 1, 4, 2)}}, // j: 3 vs 4
		{"ii->i", []*Tensor{randTensor(rng, 0, 1, 2, 3)}},                                  // a non-square diagonal
		{"...i->i", []*Tensor{randTensor(rng, 0, 1)}},                                      // fewer axes than letters
		{"i->i", []*Tensor{nnInts(1, 2)}},                                                  // integers
		{"i,i", []*Tensor{randTensor(rng, 0, 1, 2), nil}},                                  // a missing operand
	} {
		op := newOp(t, "Einsum", attrs{"equation": test.eq}, 12, len(test.in), 1)
		if _, err := op.Forward(&State{}, test.in); err == nil {
			t.Errorf("%q on %v: accepted", test.eq, test.in)
		}
	}
}
