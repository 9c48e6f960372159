package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkDepthwiseStrategies runs the depthwise layers of MobileNet-V2,
// MobileNet-V3-Large and EfficientNet-B0 (batch 16) on each strategy that
// takes them, forward and backward (dX and dW), side by side:
//
//	go test -run '^$' -bench DepthwiseStrategies ./runtime/interp/ops/
func BenchmarkDepthwiseStrategies(b *testing.B) {
	for _, c := range []struct {
		ch, hw, k, s int
	}{{96, 112, 3, 2}, {144, 56, 3, 1}, {32, 112, 3, 1}, {144, 56, 3, 2}, {192, 28, 3, 1}, {120, 28, 5, 1}, {240, 28, 3, 1}, {240, 28, 5, 1}, {672, 14, 5, 1}, {672, 14, 5, 2}, {1152, 7, 5, 1}, {576, 14, 3, 1}, {960, 7, 3, 1}, {144, 28, 3, 1}, {192, 28, 3, 2}, {240, 28, 3, 2}, {240, 28, 5, 2}, {144, 28, 5, 2}} {
		rng := rand.New(rand.NewPCG(1, 2))
		in := []*Tensor{randTensor(rng, -1, 1, 16, c.ch, c.hw, c.hw), randTensor(rng, -1, 1, c.ch, 1, c.k, c.k), randTensor(rng, -1, 1, c.ch)}
		p := int64(c.k / 2)
		op := newOp(b, "Conv", attrs{"group": c.ch, "strides": []int64{int64(c.s), int64(c.s)}, "pads": []int64{p, p, p, p}}, 13, 3, 1).(*conv)
		a, err := op.operands(in)
		if err != nil {
			b.Fatal(err)
		}
		a.kernels = true
		k := a.key()
		dy := randTensor(rng, -1, 1, a.n, a.m, a.g.oh, a.g.ow)
		for _, name := range []string{"phases", "pixels", "rows"} {
			var st convStrategy
			for _, s := range convStrategies {
				if s.name == name {
					st = s
				}
			}
			if st.forward(k) == nil {
				continue
			}
			// A part the strategy does not take runs on the planner's pick.
			plan := planConv(k)
			plan.fwd = st.forward(k)
			if st.inputGrad != nil && st.inputGrad(k) != nil {
				plan.dx = st.inputGrad(k)
			}
			if st.weightGrad != nil && st.weightGrad(k) != nil {
				plan.dw = st.weightGrad(k)
			}
			s := &State{Buffers: &Buffers{}, Need: []bool{true, true, false}}
			y := NewFloat(a.n, a.m, a.g.oh, a.g.ow)
			b.Run(fmt.Sprintf("%dx%d_k%d_s%d/%s/fwd", c.ch, c.hw, c.k, c.s, name), func(b *testing.B) {
				for range b.N {
					s.Buffers.NextRun()
					plan.fwd.forward(s, a, y)
				}
			})
			b.Run(fmt.Sprintf("%dx%d_k%d_s%d/%s/bwd", c.ch, c.hw, c.k, c.s, name), func(b *testing.B) {
				for range b.N {
					s.Buffers.NextRun()
					convBackward(s, plan, a, dy)
				}
			})
			b.Run(fmt.Sprintf("%dx%d_k%d_s%d/%s/dx", c.ch, c.hw, c.k, c.s, name), func(b *testing.B) {
				sx := &State{Buffers: &Buffers{}, Need: []bool{true, false, false}}
				for range b.N {
					sx.Buffers.NextRun()
					convBackward(sx, plan, a, dy)
				}
			})
		}
	}
}
