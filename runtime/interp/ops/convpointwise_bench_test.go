package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkConvPointwise times the weight gradient of 1×1 layers on
// small planes (MobileNet-V2's and EfficientNet-B0's last stages) at
// batch 16 on the vector kernels, per sample (im2col) and as one product
// over the batch (pointwise): dW alone, and the whole backward pass of a
// training step (dX on the direct kernel, dW, dB).
//
//	go test -run '^$' -bench ConvPointwise -benchtime 30x ./runtime/interp/ops/
func BenchmarkConvPointwise(b *testing.B) {
	for _, c := range []struct{ c, m, hw int }{{320, 1280, 7}, {960, 160, 7}, {384, 64, 14}, {64, 384, 14}} {
		rng := rand.New(rand.NewPCG(1, 2))
		in := []*Tensor{randTensor(rng, -1, 1, 16, c.c, c.hw, c.hw), randTensor(rng, -1, 1, c.m, c.c, 1, 1), randTensor(rng, -1, 1, c.m)}
		a, err := newOp(b, "Conv", nil, 13, 3, 1).(*conv).operands(in)
		if err != nil {
			b.Fatal(err)
		}
		a.kernels = true
		dy := randTensor(rng, -1, 1, a.n, a.m, a.g.oh, a.g.ow)
		// The parts themselves, not the planner's choice: the strategy
		// refuses 64→384, whose figures set its channel rule.
		for _, dw := range []struct {
			name string
			part convGradient
		}{{"im2col", im2colConv{}}, {"pointwise", pointwiseWeights{}}} {
			name, plan := dw.name, planConv(a.key())
			plan.dw = dw.part
			for _, part := range []struct {
				name string
				need []bool
			}{{"dw", []bool{false, true, false}}, {"all", []bool{true, true, true}}} {
				s := &State{Buffers: &Buffers{}, Kernels: true, Need: part.need}
				b.Run(fmt.Sprintf("%dto%d_%dx%d/%s/%s", c.c, c.m, c.hw, c.hw, name, part.name), func(b *testing.B) {
					for range b.N {
						s.Buffers.NextRun()
						convBackward(s, plan, a, dy)
					}
				})
			}
		}
	}
}
