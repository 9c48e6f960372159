package ops

import (
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
