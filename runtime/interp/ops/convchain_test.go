package ops

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestConvChain checks the fusion of a 1×1 Conv and the depthwise Conv
// after it (convchain.go), each with a ReLU6 or a SiLU gate folded in,
// with and without biases: where the planes fit and the batch has a
// sample for each core, the forward pass runs in blocks of channels (more
// than one here, the last partial), in an attack's pass and in a training
// pass, which keeps the expanded image; elsewhere the two Convs one after
// the other. Where the expanded image's gradient is large, an attack's
// backward pass runs in bands of rows (convchainbands.go). Either way the
// output, both masks or gate slopes and every gradient wanted are the two
// Convs' bit for bit, with the storage the pair gives back poisoned.
func TestConvChain(t *testing.T) {
	chain, clip, relu6 := fusionNamed(t, ChainFusion), fusionNamed(t, "Conv+Clip"), relu6Op(t)
	gates, joinGate := gateFusions(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		n, c, m, hw, k, s int
		silu              bool // a SiLU gate on each Conv, not a ReLU6
		bias1, bias2      bool
		blocks, bands     bool // the forward pass in blocks; an attack's backward pass in bands
	}{
		{2, 8, 160, 32, 3, 1, false, true, true, true, false},  // 1024-pixel planes: blocks of 64 channels, the last of 32
		{2, 8, 40, 64, 3, 2, true, false, true, true, false},   // 4096: blocks of 16, the last of 8
		{2, 8, 100, 28, 5, 1, false, true, false, true, false}, // 784: blocks of 80 channels, each on a mask word, the last of 20
		{2, 8, 128, 128, 3, 1, false, true, true, true, true},  // 2×128×128×128 floats of dY1: bands of 4 rows
		{2, 8, 64, 184, 3, 2, true, false, false, true, true},  // 2×64×184×184, stride 2: bands of 5 rows, the last of 4
		{1, 8, 40, 64, 3, 1, false, true, true, false, false},  // one sample: apart, whose depthwise layer spreads over the cores
		{2, 16, 64, 7, 3, 1, false, true, true, false, false},  // the depthwise layer on the pixels strategy
		{2, 8, 20, 18, 3, 1, false, true, true, false, false},  // 20 channels of 324 pixels: the samples do not start on mask words
	} {
		p := int64(c.k / 2)
		dwAttrs := attrs{"group": c.m, "strides": []int64{int64(c.s), int64(c.s)}, "pads": []int64{p, p, p, p}}
		act := func(op Op) Op {
			j, ok := clip.Join(op, relu6, nil, true)
			if c.silu {
				j, ok = joinGate("Conv", "Sigmoid", op, gates["Sigmoid"])
			}
			if !ok {
				t.Fatal("the Conv's activation refused")
			}
			return j
		}
		in1, in2 := 2+pick01(c.bias1), 2+pick01(c.bias2)
		first, then := act(newOp(t, "Conv", nil, 13, in1, 1)), act(newOp(t, "Conv", dwAttrs, 13, in2, 1))
		op, ok := chain.Join(first, then, make([][]int, in1-1, in1), true)
		if ok {
			t.Fatalf("%+v: the fusion joined a Conv whose weights' shape it does not know", c)
		}
		shapes := [][]int{{-1, c.c, c.hw, c.hw}, {c.m, c.c, 1, 1}, {c.m}}[:in1]
		if op, ok = chain.Join(first, then, shapes, true); !ok {
			t.Fatalf("%+v: the fusion refused a 1×1 Conv and a depthwise Conv", c)
		}
		in := []*Tensor{randTensor(rng, -1, 1, c.n, c.c, c.hw, c.hw), randTensor(rng, -1, 1, c.m, c.c, 1, 1)}
		if c.bias1 {
			in = append(in, randTensor(rng, -0.5, 1, c.m))
		}
		in = append(in, randTensor(rng, -1, 1, c.m, 1, c.k, c.k))
		if c.bias2 {
			in = append(in, randTensor(rng, -0.5, 1, c.m))
		}
		blocks := c.blocks && c.n >= runtime.GOMAXPROCS(0)
		for _, attack := range []bool{true, false} {
			name := fmt.Sprintf("%d of %d→%d at %d×%d, %d×%d stride %d, SiLU %v, biases %v %v, attack %v",
				c.n, c.c, c.m, c.hw, c.hw, c.k, c.k, c.s, c.silu, c.bias1, c.bias2, attack)
			need := make([]bool, len(in))
			for i := range need {
				need[i] = i == 0 || !attack
			}
			checkChain(t, name, op.(*convChain), first.(*conv), then.(*conv), in, need, blocks, attack && c.bands)
		}
	}
}

// checkChain runs ch and, apart, first and then, on in, for the
// gradients need wants, and compares; blocks says whether the forward pass
// must run in blocks, bands whether the backward pass in bands of rows.
func checkChain(t *testing.T, name string, ch *convChain, first, then *conv, in []*Tensor, need []bool, blocks, bands bool) {
	t.Helper()
	newState := func(need []bool) *State {
		return &State{Grad: true, Kernels: true, Buffers: &Buffers{Poison: true}, Need: need}
	}
	k := ch.nFirst
	s := newState(need)
	ch.nIn = len(in)
	s1, s2 := ch.subStates(s)
	if _, ok, err := ch.blocked(s, s1, s2, in); err != nil || ok != blocks {
		t.Errorf("%s: ran in blocks %v (%v), want %v", name, ok, err, blocks)
	}
	y, err := ch.Forward(s, in)
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := newState(need[:k]), newState(append([]bool{true}, need[k:]...))
	ya, err := first.Forward(sa, in[:k])
	if err != nil {
		t.Fatal(err)
	}
	yb, err := then.Forward(sb, append([]*Tensor{ya[0]}, in[k:]...))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y[0].Data, yb[0].Data) {
		t.Errorf("%s: the pair's output differs from the two Convs'", name)
	}
	for i, st := range []*State{sa, sb} {
		want, got := st.Aux().(convArgs), ch.sub[i].Aux().(convArgs)
		if len(want.mask) == 0 && want.gated == nil || !slices.Equal(got.mask, want.mask) ||
			(got.gated == nil) != (want.gated == nil) || want.gated != nil && !slices.Equal(got.gated.Data, want.gated.Data) {
			t.Errorf("%s: Conv %d's mask or gate slopes differ", name, i+1)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	dy := randTensor(rng, -1, 1, yb[0].Shape...)
	if _, ok := ch.bandBackward(s, s1, s2, dy); ok != bands {
		t.Errorf("%s: backward in bands of rows %v, want %v", name, ok, bands)
	}
	got, err := ch.Backward(s, []*Tensor{dy})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := then.Backward(sb, []*Tensor{dy})
	if err != nil {
		t.Fatal(err)
	}
	g1, err := first.Backward(sa, g2[:1])
	if err != nil {
		t.Fatal(err)
	}
	want := make([]*Tensor, len(in))
	copy(want, g1)
	copy(want[k:], g2[1:])
	for i, w := range want {
		if need[i] != (w != nil) || len(got) <= i || (got[i] != nil) != (w != nil) {
			t.Errorf("%s: gradient %d: the pair gives %v, the Convs %v, wanted %v", name, i, len(got) > i && got[i] != nil, w != nil, need[i])
			continue
		}
		if w != nil && !slices.Equal(got[i].Data, w.Data) {
			t.Errorf("%s: gradient %d differs from the two Convs'", name, i)
		}
	}
}

// fusionNamed returns the registered fusion called name.
func fusionNamed(t testing.TB, name string) Fusion {
	t.Helper()
	for _, f := range Fusions() {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no fusion %q registered", name)
	return Fusion{}
}

// mnv2Pairs are MobileNet-V2's expand and depthwise pairs on planes
// whose expanded image leaves the cache: input channels, expanded
// channels, plane side, the depthwise layer's stride.
var mnv2Pairs = []struct{ c, m, hw, s int }{{16, 96, 112, 2}, {24, 144, 56, 1}, {24, 144, 56, 2}}

// mnv2Pair builds a pair of mnv2Pairs at batch 16, a ReLU6 on each Conv:
// the fused op, the two Convs apart, random inputs, and a name.
func mnv2Pair(b *testing.B, rng *rand.Rand, c, m, hw, s int) (pair *convChain, first, then *conv, in []*Tensor, name string) {
	clip, relu6 := fusionNamed(b, "Conv+Clip"), relu6Op(b)
	join := func(op Op) *conv {
		j, _ := clip.Join(op, relu6, nil, true)
		return j.(*conv)
	}
	dwAttrs := attrs{"group": m, "strides": []int64{int64(s), int64(s)}, "pads": []int64{1, 1, 1, 1}}
	first, then = join(newOp(b, "Conv", nil, 13, 3, 1)), join(newOp(b, "Conv", dwAttrs, 13, 3, 1))
	op, ok := fusionNamed(b, ChainFusion).Join(first, then, [][]int{{-1, c, hw, hw}, {m, c, 1, 1}, {m}}, true)
	if !ok {
		b.Fatal("the fusion refused a pair of MobileNet-V2's")
	}
	in = []*Tensor{randTensor(rng, -1, 1, 16, c, hw, hw), randTensor(rng, -1, 1, m, c, 1, 1), randTensor(rng, -0.5, 1, m),
		randTensor(rng, -1, 1, m, 1, 3, 3), randTensor(rng, -0.5, 1, m)}
	return op.(*convChain), first, then, in, fmt.Sprintf("%d→%d_%dx%d_s%d", c, m, hw, hw, s)
}

// apartStates returns, for the pair's inputs' gradients need, the states
// of its two Convs run apart, on the pool of s.
func apartStates(s *State, need []bool) (first, then *State) {
	return &State{Grad: true, Kernels: true, Buffers: s.Buffers, Need: need[:3]},
		&State{Grad: true, Kernels: true, Buffers: s.Buffers, Need: append([]bool{true}, need[3:]...)}
}

// BenchmarkConvChain runs MobileNet-V2's expand and depthwise pairs at
// batch 16, forward in an attack's pass and in a training pass, joined (in
// blocks of channels) and apart (the expanded image written whole, then
// read).
func BenchmarkConvChain(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range mnv2Pairs {
		op, first, then, in, name := mnv2Pair(b, rng, c.c, c.m, c.hw, c.s)
		for _, train := range []bool{false, true} {
			need := []bool{true, train, train, train, train}
			s := &State{Grad: true, Kernels: true, Buffers: &Buffers{}, Need: need}
			name := fmt.Sprintf("%s/train=%v", name, train)
			b.Run(name+"/joined", func(b *testing.B) {
				for range b.N {
					s.Buffers.NextRun()
					y, _ := op.Forward(s, in)
					s.Buffers.Put(y[0].Data)
					if train {
						s.Buffers.Put(op.sub[1].saved[0].Data) // the expanded image
					}
				}
			})
			sa, sb := apartStates(s, need)
			b.Run(name+"/apart", func(b *testing.B) {
				for range b.N {
					s.Buffers.NextRun()
					ya, _ := first.Forward(sa, in[:3])
					yb, _ := then.Forward(sb, append([]*Tensor{ya[0]}, in[3:]...))
					s.Buffers.Put(ya[0].Data)
					s.Buffers.Put(yb[0].Data)
				}
			})
		}
	}
}

// BenchmarkConvChainBackward runs an attack's backward pass through
// MobileNet-V2's expand and depthwise pairs at batch 16, joined (in bands
// of rows) and apart (the depthwise layer's dX written whole, then the 1×1
// layer's read from it).
func BenchmarkConvChainBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range mnv2Pairs {
		op, first, then, in, name := mnv2Pair(b, rng, c.c, c.m, c.hw, c.s)
		need := []bool{true, false, false, false, false}
		s := &State{Grad: true, Kernels: true, Buffers: &Buffers{}, Need: need}
		y, err := op.Forward(s, in)
		if err != nil {
			b.Fatal(err)
		}
		dy := randTensor(rng, -1, 1, y[0].Shape...)
		sa, sb := apartStates(s, need)
		b.Run(name+"/joined", func(b *testing.B) {
			for range b.N {
				b.StopTimer() // the pair lets go of its forward pass's state in Backward
				s.Buffers.NextRun()
				y, err := op.Forward(s, in)
				if err != nil {
					b.Fatal(err)
				}
				s.Buffers.Put(y[0].Data)
				b.StartTimer()
				g, err := op.Backward(s, []*Tensor{dy})
				if err != nil {
					b.Fatal(err)
				}
				s.Buffers.Put(g[0].Data)
			}
		})
		b.Run(name+"/apart", func(b *testing.B) {
			for range b.N {
				b.StopTimer() // a forward pass before each, as the pair's
				s.Buffers.NextRun()
				ya, _ := first.Forward(sa, in[:3])
				yb, err := then.Forward(sb, append([]*Tensor{ya[0]}, in[3:]...))
				if err != nil {
					b.Fatal(err)
				}
				s.Buffers.Put(ya[0].Data)
				s.Buffers.Put(yb[0].Data)
				b.StartTimer()
				g2, _ := then.Backward(sb, []*Tensor{dy})
				g1, _ := first.Backward(sa, g2[:1])
				s.Buffers.Put(g2[0].Data)
				s.Buffers.Put(g1[0].Data)
			}
		})
	}
}

// relu6Op returns the op the Clip pattern makes of bounds 0 and 6, a
// ReLU6.
func relu6Op(tb testing.TB) Op {
	tb.Helper()
	for _, p := range Patterns() {
		if p.Name == "Clip" {
			if op, ok := p.Op([]float32{0, 6}); ok {
				return op
			}
		}
	}
	tb.Fatal("no Clip pattern takes bounds 0 and 6")
	return nil
}
