package ops

import (
	"testing"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// TestBatchStrategyWhole runs a squeeze-and-excitation convolution's
// backward pass with both gradients on the batch strategy at once, as an
// attack's or a training pass plans it (TestConvStrategies swaps in one
// part at a time): without a bias, where convBackward returns before the
// samples, and with one, through a folded Relu, both against im2col.
func TestBatchStrategyWhole(t *testing.T) {
	for _, test := range []convCase{
		{"no bias", nil, []int{6, 20, 1, 1}, []int{9, 20, 1, 1}, false, true},
		{"bias", nil, []int{3, 8, 1, 1}, []int{16, 8, 1, 1}, true, false},
	} {
		a, dy := strategyArgs(t, test)
		plan := planConv(a.key())
		if plan.dxName != "batch" || plan.dwName != "batch" {
			t.Fatalf("%s: planned dX on %s and dW on %s, want the batch strategy for both", test.name, plan.dxName, plan.dwName)
		}
		checkWholeBackward(t, test.name, plan, a, dy)
	}
}

// checkWholeBackward runs a's backward pass on plan with every gradient
// at once, through a's folded Relu where it has one, its scratch
// poisoned, against im2col's.
func checkWholeBackward(t *testing.T, name string, plan *convPlan, a convArgs, dy *Tensor) {
	t.Helper()
	ref := &convPlan{fwd: im2colConv{}, dx: col2imGrad{}, dw: im2colConv{}}
	if a.relu {
		y := NewFloat(a.n, a.m, a.g.oh, a.g.ow)
		im2colConv{}.forward(&State{}, a, y)
		a.mask = newReluMask(kernel.Masks(a.kernels), y.Data)
	}
	need := []bool{true, true, a.b != nil}
	got := convBackward(&State{Need: need, Kernels: a.kernels, Buffers: poisoned().Buffers}, plan, a, dy)
	want := convBackward(&State{Need: need}, ref, a, dy)
	for i, what := range []string{"dX", "dW", "dB"}[:len(want)] {
		closeTo(t, name+": "+what, got[i], want[i])
	}
}
