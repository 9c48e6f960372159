package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestEpilogueStreams checks each streaming strategy (convepilogue.go):
// a Conv with a Clip, a Relu or a gate folded in, whose strategy runs
// the epilogue on each sample or block of planes as it writes them, gives
// the bits of the strategy's output with the epilogue run over the whole
// of it afterwards: the same output, mask words and gate slopes, in a
// gradient pass and in inference (no mask, no slopes; a Relu then has no
// epilogue). A range left out leaves outputs above the Clip's bound; one
// run twice gates its outputs twice. The batch gives every core blocks,
// and the odd planes' last block ends off a mask word.
func TestEpilogueStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := 2*runtime.GOMAXPROCS(0) + 1
	for _, test := range []struct {
		name     string
		a        attrs
		x, w     []int
		strategy string
	}{
		{"1x1", nil, []int{n, 8, 8, 8}, []int{16, 8, 1, 1}, "direct"},
		{"3x3 grouped", attrs{"group": 2, "pads": []int64{1, 1, 1, 1}}, []int{n, 4, 8, 8}, []int{8, 2, 3, 3}, "direct"},
		{"depthwise blocks of planes", attrs{"group": 10, "pads": []int64{1, 1, 1, 1}}, []int{n, 10, 20, 20}, []int{10, 1, 3, 3}, "rows"},
		{"depthwise strided, odd planes", attrs{"group": 65, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{n, 65, 42, 42}, []int{65, 1, 3, 3}, "rows"},
		{"depthwise stride 3", attrs{"group": 10, "strides": []int64{3, 3}, "pads": []int64{1, 1, 1, 1}}, []int{n, 10, 24, 24}, []int{10, 1, 3, 3}, "phases"},
		{"depthwise pixels", attrs{"group": 384, "pads": []int64{1, 1, 1, 1}}, []int{n, 384, 7, 7}, []int{384, 1, 3, 3}, "pixels"},
		{"depthwise rows, blocks of planes", attrs{"group": 384, "pads": []int64{1, 1, 1, 1}}, []int{n, 384, 14, 14}, []int{384, 1, 3, 3}, "rows"},
	} {
		in := []*Tensor{randTensor(rng, -1, 1, test.x...), randTensor(rng, -1, 1, test.w...), randTensor(rng, -1, 1, test.w[0])}
		for _, fold := range []string{"Clip", "Relu", "gate"} {
			for _, grad := range []bool{true, false} {
				name := fmt.Sprintf("%s with %s, gradient pass %v", test.name, fold, grad)
				c := newOp(t, "Conv", test.a, 13, 3, 1).(*conv)
				switch fold {
				case "Clip":
					c.clip = &[2]float32{0, 0.5}
				case "Relu":
					c.relu = true
				case "gate":
					c.gate = &siluGate
				}
				s := &State{Grad: grad, Kernels: true, Need: []bool{true, true, true}, Buffers: poisoned().Buffers}
				out, err := c.Forward(s, in)
				if err != nil {
					t.Fatal(err)
				}
				a, err := c.operands(in)
				if err != nil {
					t.Fatal(err)
				}
				a.kernels = true
				got := a // inference keeps nothing for a backward pass
				if grad {
					got = s.Aux().(convArgs)
				}
				plan := c.planFor(a.key())
				if st, ok := plan.fwd.(streamer); plan.fwdName != test.strategy || !ok || !st.streams(a) {
					t.Fatalf("%s: forward on %s (streaming %v), want %s streaming", name, plan.fwdName, ok, test.strategy)
				}

				sw := &State{Grad: grad, Kernels: true, Need: []bool{true, true, true}}
				y := NewFloat(out[0].Shape...)
				plan.fwd.forward(sw, a, y)
				var mask reluMask
				var gated *Tensor
				e := c.epilogue(sw, a, y)
				if e != nil {
					e.whole()
					mask, gated = e.mask, e.slope
				} else if fold != "Relu" || grad {
					t.Fatalf("%s: no epilogue", name)
				}

				if !slices.Equal(math32bits(out[0].Data), math32bits(y.Data)) {
					t.Errorf("%s: streamed output differs from the epilogue run afterwards", name)
				}
				if !slices.Equal(got.mask, mask) || (mask != nil) != (grad && fold != "gate") {
					t.Errorf("%s: streamed mask differs, or is kept where it should not be", name)
				}
				if (gated == nil) != (got.gated == nil) || gated != nil && !slices.Equal(math32bits(got.gated.Data), math32bits(gated.Data)) {
					t.Errorf("%s: streamed gate slopes differ", name)
				}
				if fold == "Clip" && slices.Max(out[0].Data) != 0.5 {
					t.Errorf("%s: largest output %v, want the bound 0.5 reached", name, slices.Max(out[0].Data))
				}
			}
		}
	}
}

// math32bits returns the bits of each value, so that NaNs compare.
func math32bits(v []float32) []uint32 {
	b := make([]uint32, len(v))
	for i, f := range v {
		b[i] = math.Float32bits(f)
	}
	return b
}

// BenchmarkConvEpilogue times MobileNet-V2's largest layers with their
// ReLU6 folded in, and EfficientNet-B0's with their SiLU, at batch 16 in
// a gradient pass: the Clip and its mask, or the gate and its slope,
// streamed (convepilogue.go) against run over the whole output after the
// kernels, as before.
func BenchmarkConvEpilogue(b *testing.B) {
	for _, c := range []struct {
		name string
		a    attrs
		x, w []int
		silu bool
	}{
		{"1x1_16to96_112", nil, []int{16, 16, 112, 112}, []int{96, 16, 1, 1}, false},
		{"dw_96_112_s2", attrs{"group": 96, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{16, 96, 112, 112}, []int{96, 1, 3, 3}, false},
		{"dw_144_56", attrs{"group": 144, "pads": []int64{1, 1, 1, 1}}, []int{16, 144, 56, 56}, []int{144, 1, 3, 3}, false},
		{"silu_1x1_16to96_112", nil, []int{16, 16, 112, 112}, []int{96, 16, 1, 1}, true},
		{"silu_dw_144_56", attrs{"group": 144, "pads": []int64{1, 1, 1, 1}}, []int{16, 144, 56, 56}, []int{144, 1, 3, 3}, true},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		in := []*Tensor{randTensor(rng, -1, 1, c.x...), randTensor(rng, -1, 1, c.w...), randTensor(rng, -1, 1, c.w[0])}
		op := newOp(b, "Conv", c.a, 13, 3, 1).(*conv)
		if op.clip = &[2]float32{0, 6}; c.silu {
			op.clip, op.gate = nil, &siluGate
		}
		s := &State{Grad: true, Kernels: true, Need: []bool{true, false, false}, Buffers: &Buffers{}}
		b.Run(c.name+"/streamed", func(b *testing.B) {
			for range b.N {
				s.Buffers.NextRun()
				out, err := op.Forward(s, in)
				if err != nil {
					b.Fatal(err)
				}
				s.Buffers.Put(out[0].Data)
			}
		})
		a, err := op.operands(in)
		if err != nil {
			b.Fatal(err)
		}
		a.kernels = true
		fwd := op.planFor(a.key()).fwd
		b.Run(c.name+"/after", func(b *testing.B) {
			for range b.N {
				s.Buffers.NextRun()
				y := s.alloc(false, a.n, a.m, a.g.oh, a.g.ow)
				fwd.forward(s, a, y)
				op.epilogue(s, a, y).whole()
				s.Buffers.Put(y.Data)
			}
		})
	}
}
