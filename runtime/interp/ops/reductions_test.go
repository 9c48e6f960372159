package ops

import (
	"math/rand/v2"
	"testing"
)

// TestMoreReductionGradients checks ReduceL1, ReduceSumSquare,
// ReduceLogSum, ReduceLogSumExp (axes as an attribute and, opset 18, as an
// input) and MeanVarianceNormalization against finite differences.
func TestMoreReductionGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 5))
	r := func(lo, hi float32, shape ...int) *Tensor { return randTensor(rng, lo, hi, shape...) }
	for _, test := range []opCase{
		{"l1 axis 1", "ReduceL1", attrs{"axes": []int64{1}}, 13, []*Tensor{awayFrom(r(-2, 2, 2, 3, 4), 0.05, 0)}},
		{"l1 all, axes input", "ReduceL1", attrs{"keepdims": 0}, 18, []*Tensor{awayFrom(r(-2, 2, 3, 4), 0.05, 0)}},
		{"sumsquare axes -1", "ReduceSumSquare", attrs{"axes": []int64{-1}, "keepdims": 0}, 13, []*Tensor{r(-2, 2, 3, 4)}},
		{"sumsquare axes input", "ReduceSumSquare", nil, 18, []*Tensor{r(-2, 2, 2, 3, 2), nnInts(0, 2)}},
		{"logsum", "ReduceLogSum", attrs{"axes": []int64{0}}, 13, []*Tensor{r(0.5, 2, 3, 4)}},
		{"logsumexp axis 1", "ReduceLogSumExp", attrs{"axes": []int64{1}}, 13, []*Tensor{r(-3, 3, 2, 5, 3)}},
		{"logsumexp large values", "ReduceLogSumExp", attrs{"keepdims": 0}, 13, []*Tensor{r(80, 90, 3, 4)}},
		{"logsumexp axes input", "ReduceLogSumExp", nil, 18, []*Tensor{r(-3, 3, 2, 3, 4), nnInts(-1, 0)}},
		{"prod axis 1", "ReduceProd", attrs{"axes": []int64{1}}, 13, []*Tensor{r(0.5, 1.5, 2, 3, 2)}},
		{"prod all, axes input", "ReduceProd", attrs{"keepdims": 0}, 18, []*Tensor{r(-1.5, 1.5, 2, 3)}},
		{"prod with one zero", "ReduceProd", attrs{"axes": []int64{0}}, 13, []*Tensor{nnFloats([]int{3, 2}, 0, 2, 0.5, 0, 3, 0)}},
		{"mvn default axes", "MeanVarianceNormalization", nil, 13, []*Tensor{r(-2, 2, 2, 3, 2, 2)}},
		{"mvn last axis", "MeanVarianceNormalization", attrs{"axes": []int64{-1}}, 9, []*Tensor{r(-2, 2, 3, 5)}},
		{"mvn scattered axes", "MeanVarianceNormalization", attrs{"axes": []int64{0, 2}}, 13, []*Tensor{r(-2, 2, 3, 2, 4)}},
	} {
		gradCheck(t, test.name, test.newOp(t), test.in)
	}
	// No overflow where e^x would: log Σ e^x of [1000, 1000] is 1000 + log 2.
	outs, err := newOp(t, "ReduceLogSumExp", nil, 13, 1, 1).Forward(&State{}, []*Tensor{nnFloats([]int{2}, 1000, 1000)})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "ReduceLogSumExp of large values", outs[0], nnFloats([]int{1}, 1000.6931))
}
