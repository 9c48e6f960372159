package ops

import (
	"math/rand/v2"
	"testing"
)

// TestIndexingGradients checks GatherElements, GatherND, ScatterElements,
// ScatterND (every reduction) and TopK against finite differences, with
// repeated indices where the operator allows them.
func TestIndexingGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 4))
	r := func(shape ...int) *Tensor { return randTensor(rng, 0.5, 1.5, shape...) }
	ints := func(shape []int, v ...int64) *Tensor { return NewInts(shape, v) }
	// shifted updates never tie with ewDistinct data (values 0.1 apart).
	shifted := func(shape ...int) *Tensor {
		u := ewDistinct(rng, shape...)
		for i := range u.Data {
			u.Data[i] += 0.033
		}
		return u
	}
	for _, test := range []opCase{
		{"gatherelements axis 1, repeats", "GatherElements", attrs{"axis": 1}, 13,
			[]*Tensor{r(2, 3), ints([]int{2, 4}, 0, 2, 2, -1, 1, 1, 0, 2)}},
		{"gatherelements axis 0, smaller indices", "GatherElements", nil, 13,
			[]*Tensor{r(3, 3), ints([]int{2, 2}, 2, 0, 1, 2)}},
		{"gathernd slices", "GatherND", nil, 13, []*Tensor{r(3, 2, 2), ints([]int{2, 1}, 2, 2)}},
		{"gathernd batch_dims 1", "GatherND", attrs{"batch_dims": 1}, 13,
			[]*Tensor{r(2, 3, 2), ints([]int{2, 2, 1}, 0, 2, -1, 1)}},
		{"scatterelements none, repeats", "ScatterElements", attrs{"axis": 1}, 16,
			[]*Tensor{r(2, 3), ints([]int{2, 2}, 1, 1, 0, 2), r(2, 2)}},
		{"scatterelements add", "ScatterElements", attrs{"reduction": "add"}, 16,
			[]*Tensor{r(3, 2), ints([]int{2, 2}, 1, 0, 1, 0), r(2, 2)}},
		{"scatterelements mul", "ScatterElements", attrs{"reduction": "mul"}, 16,
			[]*Tensor{r(3, 2), ints([]int{2, 2}, 1, 0, 1, 2), r(2, 2)}},
		{"scatterelements max", "ScatterElements", attrs{"reduction": "max"}, 18,
			[]*Tensor{ewDistinct(rng, 3, 2), ints([]int{2, 2}, 1, 0, 1, 2), shifted(2, 2)}},
		{"scatter (opset 10)", "Scatter", attrs{"axis": 0}, 10,
			[]*Tensor{r(3, 2), ints([]int{1, 2}, 2, 0), r(1, 2)}},
		{"scatternd none", "ScatterND", nil, 16, []*Tensor{r(4, 2), ints([]int{2, 1}, 3, 0), r(2, 2)}},
		{"scatternd add, repeats", "ScatterND", attrs{"reduction": "add"}, 16,
			[]*Tensor{r(2, 3), ints([]int{3, 2}, 0, 1, 0, 1, 1, 2), r(3)}},
		{"scatternd mul", "ScatterND", attrs{"reduction": "mul"}, 16,
			[]*Tensor{r(2, 3), ints([]int{2, 2}, 0, 1, 0, 1), r(2)}},
		{"scatternd min", "ScatterND", attrs{"reduction": "min"}, 18,
			[]*Tensor{ewDistinct(rng, 4), ints([]int{3, 1}, 0, 2, 0), shifted(3)}},
		{"topk largest", "TopK", attrs{"axis": 1}, 11, []*Tensor{ewDistinct(rng, 2, 5, 3), ints([]int{1}, 3)}},
		{"topk smallest", "TopK", attrs{"largest": 0}, 11, []*Tensor{ewDistinct(rng, 3, 4), ints([]int{1}, 2)}},
		{"topk attribute k", "TopK", attrs{"k": 2}, 1, []*Tensor{ewDistinct(rng, 3, 4)}},
	} {
		nOut := 1
		if test.op == "TopK" {
			nOut = 2
		}
		gradCheck(t, test.name, newOp(t, test.op, test.attrs, test.opset, len(test.in), nOut), test.in)
	}
}

// TestTopKTies checks that equal values come out in index order, whichever
// way TopK sorts.
func TestTopKTies(t *testing.T) {
	x := nnFloats([]int{5}, 1, 3, 1, 3, 2)
	for _, test := range []struct {
		largest int
		want    string
	}{{1, "[1 3 4]"}, {0, "[0 2 4]"}} {
		outs, err := newOp(t, "TopK", attrs{"largest": test.largest}, 11, 2, 2).Forward(&State{}, []*Tensor{x, nnInts(3)})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmtInts(outs[1]); got != test.want {
			t.Errorf("largest=%d: indices %s, want %s", test.largest, got, test.want)
		}
	}
}

// TestIndexingRejects checks that bad attributes and out-of-range indices
// are errors, not panics.
func TestIndexingRejects(t *testing.T) {
	for _, test := range []struct {
		op    string
		attrs attrs
		opset int64
	}{
		{"ScatterElements", attrs{"reduction": "add"}, 13},
		{"ScatterElements", attrs{"reduction": "max"}, 16},
		{"ScatterElements", attrs{"reduction": "mean"}, 18},
		{"ScatterND", attrs{"reduction": "mul"}, 13},
		{"GatherND", attrs{"batch_dims": -1}, 13},
		{"TopK", nil, 1}, // k required before opset 10
		{"TopK", attrs{"k": -2}, 1},
		{"TopK", attrs{"largest": 2}, 11},
		{"TopK", attrs{"sorted": -1}, 11},
	} {
		if _, err := New(makeNode(t, test.op, test.attrs, 3, 1), test.opset, ""); err == nil {
			t.Errorf("%s %v at opset %d: accepted", test.op, test.attrs, test.opset)
		}
	}
	rng := rand.New(rand.NewPCG(8, 1))
	x := randTensor(rng, 0, 1, 2, 3)
	for _, test := range []struct {
		name  string
		op    string
		attrs attrs
		in    []*Tensor
	}{
		{"gatherelements index past the axis", "GatherElements", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{2})}},
		{"gatherelements index below -size", "GatherElements", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{-3})}},
		{"gatherelements rank mismatch", "GatherElements", nil, []*Tensor{x, nnInts(0)}},
		{"gatherelements indices wider than data", "GatherElements", nil, []*Tensor{x, NewInts([]int{1, 4}, []int64{0, 0, 0, 0})}},
		{"gatherelements float indices", "GatherElements", nil, []*Tensor{x, nnFloats([]int{1, 1}, 0)}},
		{"gatherelements axis out of range", "GatherElements", attrs{"axis": 2}, []*Tensor{x, NewInts([]int{1, 1}, []int64{0})}},
		{"gathernd tuple too long", "GatherND", nil, []*Tensor{x, NewInts([]int{1, 3}, []int64{0, 0, 0})}},
		{"gathernd index out of range", "GatherND", nil, []*Tensor{x, NewInts([]int{1, 2}, []int64{0, 3})}},
		{"gathernd batch_dims too large", "GatherND", attrs{"batch_dims": 2}, []*Tensor{x, NewInts([]int{2, 1}, []int64{0, 0})}},
		{"gathernd batch axes differ", "GatherND", attrs{"batch_dims": 1}, []*Tensor{x, NewInts([]int{3, 1}, []int64{0, 0, 0})}},
		{"gathernd empty tuples", "GatherND", nil, []*Tensor{x, NewInts([]int{2, 0}, []int64{})}},
		{"scatterelements updates shape", "ScatterElements", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{0}), randTensor(rng, 0, 1, 1, 2)}},
		{"scatterelements index out of range", "ScatterElements", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{5}), randTensor(rng, 0, 1, 1, 1)}},
		{"scatterelements mixed kinds", "ScatterElements", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{0}), NewInts([]int{1, 1}, []int64{0})}},
		{"scatterelements missing updates", "ScatterElements", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{0})}},
		{"scatternd updates shape", "ScatterND", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{0}), randTensor(rng, 0, 1, 2)}},
		{"scatternd index out of range", "ScatterND", nil, []*Tensor{x, NewInts([]int{1, 1}, []int64{-3}), randTensor(rng, 0, 1, 1, 3)}},
		{"topk k past the axis", "TopK", nil, []*Tensor{x, nnInts(4)}},
		{"topk negative k", "TopK", nil, []*Tensor{x, nnInts(-1)}},
		{"topk two k", "TopK", nil, []*Tensor{x, nnInts(1, 2)}},
		{"topk of a scalar", "TopK", nil, []*Tensor{randTensor(rng, 0, 1), nnInts(1)}},
	} {
		op := newOp(t, test.op, test.attrs, 16, len(test.in), 1)
		if _, err := op.Forward(&State{}, test.in); err == nil {
			t.Errorf("%s: accepted", test.name)
		}
	}
}
