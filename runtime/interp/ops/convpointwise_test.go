package ops

import "testing"

// TestPointwiseStrategyWhole runs a 1×1 layer's backward pass on a small
// plane with every gradient at once, as a training pass plans it: dW on
// the pointwise strategy (the whole batch first), dX on the direct kernel
// and dB sample by sample after it, through a folded Relu, against
// im2col (TestConvStrategies swaps in one part at a time). The refused
// windows (end padding, strides) take another dW strategy.
func TestPointwiseStrategyWhole(t *testing.T) {
	for _, test := range []convCase{
		{"relu and bias", nil, []int{3, 130, 5, 7}, []int{20, 130, 1, 1}, true, true},
		{"plain", nil, []int{2, 144, 7, 7}, []int{9, 144, 1, 1}, false, false},
	} {
		a, dy := strategyArgs(t, test)
		a.kernels = true
		plan := planConv(a.key())
		if plan.dwName != "pointwise" {
			t.Fatalf("%s: planned dW on %s, want pointwise", test.name, plan.dwName)
		}
		checkWholeBackward(t, test.name, plan, a, dy)
	}
	for _, test := range []convCase{
		{"end padding", attrs{"pads": []int64{0, 0, 1, 1}}, []int{2, 130, 4, 4}, []int{5, 130, 1, 1}, false, false},
		{"strided", attrs{"strides": []int64{2, 2}}, []int{2, 130, 6, 6}, []int{5, 130, 1, 1}, false, false},
	} {
		a, _ := strategyArgs(t, test)
		a.kernels = true
		if p := planConv(a.key()); p.dwName == "pointwise" {
			t.Errorf("%s: planned dW on the pointwise strategy", test.name)
		}
	}
}
