package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// MobileNet-like depthwise layers (group = input = output channels, 3×3)
// on a batch of 16: inference (one forward pass per iteration) and
// training (forward and backward to the input and the weights).

func BenchmarkDepthwise32x112(b *testing.B) {
	benchmarkConv(b, attrs{"group": 32, "pads": []int64{1, 1, 1, 1}}, []int{16, 32, 112, 112}, []int{32, 1, 3, 3}, false)
}

func BenchmarkDepthwise32x112Training(b *testing.B) {
	benchmarkConv(b, attrs{"group": 32, "pads": []int64{1, 1, 1, 1}}, []int{16, 32, 112, 112}, []int{32, 1, 3, 3}, true)
}

func BenchmarkDepthwise96x56Stride2(b *testing.B) {
	benchmarkConv(b, attrs{"group": 96, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{16, 96, 56, 56}, []int{96, 1, 3, 3}, false)
}

func BenchmarkDepthwise96x56Stride2Training(b *testing.B) {
	benchmarkConv(b, attrs{"group": 96, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{16, 96, 56, 56}, []int{96, 1, 3, 3}, true)
}

// benchmarkConv runs a Conv with a bias on input and weight shapes x and
// w: forward alone, or with grad forward and backward.
func benchmarkConv(b *testing.B, a attrs, x, w []int, grad bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := []*Tensor{randTensor(rng, -1, 1, x...), randTensor(rng, -1, 1, w...), randTensor(rng, -1, 1, w[0])}
	op := newOp(b, "Conv", a, 13, len(in), 1)
	s := &State{Grad: grad, Buffers: &Buffers{}}
	outs, err := op.Forward(s, in)
	if err != nil {
		b.Fatal(err)
	}
	dy := []*Tensor{nnOnes(outs[0])}
	b.SetBytes(int64(4 * in[0].Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Buffers.NextRun()
		if _, err := op.Forward(s, in); err != nil {
			b.Fatal(err)
		}
		if !grad {
			continue
		}
		if _, err := op.Backward(s, dy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirectBlocks times direct forward passes at batch 16 with
// every tile running a block of segments before the next (segBlock, as
// planned) and with each tile running the whole image: 1×1 layers of
// MobileNet-V2 and ResNet-50, whose input the tiles read many times, and
// a 3×3 one, which computes longer per byte.
//
//	go test -run '^$' -bench DirectBlocks -benchtime 30x ./runtime/interp/ops/
func BenchmarkDirectBlocks(b *testing.B) {
	for _, c := range []struct {
		name     string
		c, m, hw int
		k        int
	}{{"16to96_112", 16, 96, 112, 1}, {"64to256_56", 64, 256, 56, 1}, {"32to16_112", 32, 16, 112, 1}, {"3x3_64_56", 64, 64, 56, 3}} {
		p := int64(c.k / 2)
		a, _ := strategyArgs(b, convCase{c.name, attrs{"pads": []int64{p, p, p, p}}, []int{16, c.c, c.hw, c.hw}, []int{c.m, c.c, c.k, c.k}, true, false})
		s := &State{Buffers: &Buffers{}, Kernels: true}
		y := make([]float32, a.n*a.m*a.g.oh*a.g.ow)
		for _, whole := range []bool{false, true} {
			name := "blocks"
			if whole {
				name = "whole"
			}
			b.Run(c.name+"/"+name, func(b *testing.B) {
				plan := planDirect(s, a.g, a.w.Data, a.bias(), a.m, 1, false)
				defer plan.release(s)
				if whole {
					plan.block = len(plan.segs)
				}
				ohw := a.m * a.g.oh * a.g.ow
				for range b.N {
					directSamples(s, plan, a, 0, func(i, _ int, img, scratch []float32) {
						plan.run(y[i*ohw:][:ohw], img, scratch, 0)
					})
				}
			})
		}
	}
}

// BenchmarkSpaceToDepth times the stems of MobileNet-V2 (3→32, 3×3) and
// ResNet-50 (3→64, 7×7), stride 2 at 224×224, batch 16, on the vector
// kernels: each part on im2col (col2im for dX) and on the space-to-depth
// strategy.
//
//	go test -run '^$' -bench SpaceToDepth -benchtime 20x ./runtime/interp/ops/
func BenchmarkSpaceToDepth(b *testing.B) {
	for _, c := range []struct {
		name  string
		m, k  int
		stems attrs
	}{{"3x3", 32, 3, attrs{"strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}}, {"7x7", 64, 7, attrs{"strides": []int64{2, 2}, "pads": []int64{3, 3, 3, 3}}}} {
		a, dy := strategyArgs(b, convCase{c.name, c.stems, []int{16, 3, 224, 224}, []int{c.m, 3, c.k, c.k}, true, false})
		sp := newSpacePlan(a.g)
		y := NewFloat(a.n, a.m, a.g.oh, a.g.ow)
		for _, st := range []struct {
			name   string
			fwd    convForward
			dx, dw convGradient
		}{{"im2col", im2colConv{}, col2imGrad{}, im2colConv{}}, {"space to depth", spaceConv{sp}, spaceInputGrad{sp}, spaceConv{sp}}} {
			s := &State{Buffers: &Buffers{}, Kernels: true}
			b.Run(c.name+"/"+st.name+"/forward", func(b *testing.B) {
				for range b.N {
					s.Buffers.NextRun()
					st.fwd.forward(s, a, y)
				}
			})
			benchmarkConvPart(b, c.name+"/"+st.name+"/dX", a, dy, st.dx, false)
			benchmarkConvPart(b, c.name+"/"+st.name+"/dW", a, dy, st.dw, true)
		}
	}
}

// BenchmarkBatchColumns times the weight gradient of ResNet-50's layers
// into small planes at batch 16: on the batch columns strategy, on
// im2col's product a sample at a time and, at unit stride, on the direct
// kernel; the 14×14 planes are where the strategy lost.
//
//	go test -run '^$' -bench BatchColumns -benchtime 10x ./runtime/interp/ops/
func BenchmarkBatchColumns(b *testing.B) {
	for _, c := range []struct{ c, m, hw, k, s int }{{512, 512, 7, 3, 1}, {1024, 2048, 14, 1, 2}, {512, 512, 14, 3, 2}, {256, 256, 14, 3, 1}, {512, 1024, 28, 1, 2}} {
		pd, st := int64(c.k/2), int64(c.s)
		name := fmt.Sprintf("%d_%d_k%d_s%d", c.c, c.hw, c.k, c.s)
		a, dy := strategyArgs(b, convCase{name, attrs{"pads": []int64{pd, pd, pd, pd}, "strides": []int64{st, st}},
			[]int{16, c.c, c.hw, c.hw}, []int{c.m, c.c, c.k, c.k}, true, false})
		for _, p := range []struct {
			name string
			part convGradient
		}{{"direct", directConv{}}, {"im2col", im2colConv{}}, {"cols", batchCols{}}} {
			if p.name != "direct" || c.s == 1 {
				benchmarkConvPart(b, name+"/"+p.name, a, dy, p.part, true)
			}
		}
	}
}

// benchmarkConvPart times part, the input's gradient or with weights the
// weights', on its own through convBackward, on the vector kernels.
func benchmarkConvPart(b *testing.B, name string, a convArgs, dy *Tensor, part convGradient, weights bool) {
	plan := &convPlan{dx: part, dw: part}
	s := &State{Buffers: &Buffers{}, Kernels: true, Need: []bool{!weights, weights, false}}
	b.Run(name, func(b *testing.B) {
		for range b.N {
			s.Buffers.NextRun()
			convBackward(s, plan, a, dy)
		}
	})
}
