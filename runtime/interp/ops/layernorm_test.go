package ops

import (
	"math/rand/v2"
	"testing"
)

// TestLayerNormGradients checks dX, dScale and dB against finite
// differences of all three outputs (Y, Mean, InvStdDev) at once.
func TestLayerNormGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	r := func(shape ...int) *Tensor { return randTensor(rng, -1, 1, shape...) }
	for _, test := range []struct {
		name  string
		attrs attrs
		in    []*Tensor
	}{
		{"last axis", nil, []*Tensor{r(2, 3, 5), r(5), r(5)}},
		{"axis 1 of 4-D", attrs{"axis": 1}, []*Tensor{r(2, 3, 2, 2), r(3, 2, 2), r(3, 2, 2)}},
		{"axis -2, epsilon", attrs{"axis": -2, "epsilon": 0.1}, []*Tensor{r(3, 4, 2), r(4, 2), r(4, 2)}},
		{"axis 0", attrs{"axis": 0}, []*Tensor{r(2, 3), r(2, 3), r(2, 3)}},
		{"broadcast scale and bias", attrs{"axis": 1}, []*Tensor{r(2, 3, 4), r(1, 4), r(3, 1)}},
		{"no bias", nil, []*Tensor{r(4, 6), r(6)}},
	} {
		op := newOp(t, "LayerNormalization", test.attrs, 17, len(test.in), 3)
		gradCheck(t, test.name, op, test.in)
	}
}

// TestLayerNormValues checks a row by hand: mean 2, variance 2/3.
func TestLayerNormValues(t *testing.T) {
	op := newOp(t, "LayerNormalization", attrs{"epsilon": 0.0}, 17, 3, 3)
	x := nnFloats([]int{1, 3}, 1, 2, 3)
	outs, err := op.Forward(&State{}, []*Tensor{x, nnFloats([]int{3}, 1, 2, 1), nnFloats([]int{3}, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	const k = 1.2247449 // 1/sqrt(2/3)
	closeTo(t, "Y", outs[0], nnFloats([]int{1, 3}, -k, 0, k+1))
	closeTo(t, "Mean", outs[1], nnFloats([]int{1, 1}, 2))
	closeTo(t, "InvStdDev", outs[2], nnFloats([]int{1, 1}, k))
}

// TestLayerNormRejects checks attribute and input errors: values, not panics.
func TestLayerNormRejects(t *testing.T) {
	for _, a := range []attrs{{"epsilon": -1.0}, {"stash_type": 7}, {"stash_type": -1}} {
		if _, err := New(makeNode(t, "LayerNormalization", a, 3, 1), 17, ""); err == nil {
			t.Errorf("%v: accepted", a)
		}
	}
	if _, err := New(makeNode(t, "LayerNormalization", nil, 3, 1), 16, ""); err == nil {
		t.Error("accepted at opset 16, before LayerNormalization existed")
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for _, test := range []struct {
		name  string
		attrs attrs
		in    []*Tensor
	}{
		{"axis past the rank", attrs{"axis": 3}, []*Tensor{randTensor(rng, 0, 1, 2, 3), randTensor(rng, 0, 1, 3)}},
		{"axis below -rank", attrs{"axis": -3}, []*Tensor{randTensor(rng, 0, 1, 2, 3), randTensor(rng, 0, 1, 3)}},
		{"huge axis", attrs{"axis": int64(1) << 62}, []*Tensor{randTensor(rng, 0, 1, 2, 3), randTensor(rng, 0, 1, 3)}},
		{"scalar input", nil, []*Tensor{randTensor(rng, 0, 1), randTensor(rng, 0, 1)}},
		{"scale of the wrong size", nil, []*Tensor{randTensor(rng, 0, 1, 2, 3), randTensor(rng, 0, 1, 4)}},
		{"scale of a higher rank", nil, []*Tensor{randTensor(rng, 0, 1, 2, 3), randTensor(rng, 0, 1, 2, 3)}},
		{"bias of the wrong size", nil, []*Tensor{randTensor(rng, 0, 1, 2, 3), randTensor(rng, 0, 1, 3), randTensor(rng, 0, 1, 2)}},
		{"missing scale", nil, []*Tensor{randTensor(rng, 0, 1, 2, 3)}},
		{"integer input", nil, []*Tensor{NewInts([]int{3}, []int64{1, 2, 3}), randTensor(rng, 0, 1, 3)}},
	} {
		op := newOp(t, "LayerNormalization", test.attrs, 17, len(test.in), 1)
		if _, err := op.Forward(&State{}, test.in); err == nil {
			t.Errorf("%s: accepted", test.name)
		}
	}
}
