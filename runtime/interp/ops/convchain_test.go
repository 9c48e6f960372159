package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestConvChain checks the fusion of a 1×1 Conv and the depthwise Conv
// after it (convchain.go), each with its ReLU6 folded in: where the planes
// fit, the forward pass runs in blocks of channels (more than one here, the
// last partial), in an attack's pass and in a training pass, which keeps
// the expanded image; elsewhere the two Convs one after the other. Either
// way the output and both masks are the two Convs' bit for bit, and so are
// the backward pass's gradients of every input wanted.
func TestConvChain(t *testing.T) {
	chain, clip := fusionNamed(t, ChainFusion), fusionNamed(t, "Conv+Clip")
	var relu6 Op
	for _, p := range Patterns() {
		if p.Name == "Clip" {
			relu6, _ = p.Op([]float32{0, 6})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		c, m, hw, k, s int
		blocks         bool
		bands          bool // an attack's backward pass in bands of rows
	}{
		{8, 160, 32, 3, 1, true, false}, // 1024-pixel planes: blocks of 64 channels, the last of 32
		{8, 40, 64, 3, 2, true, false},  // 4096: blocks of 16, the last of 8
		{8, 100, 28, 5, 1, true, false}, // 784: blocks of 80 channels, each on a mask word, the last of 20
		{8, 128, 128, 3, 1, true, true}, // 2×128×128×128 floats of dY1: bands of 4 rows
		{8, 64, 184, 3, 2, true, true},  // 2×64×184×184, stride 2: bands of 5 rows, the last of 4
		{16, 64, 7, 3, 1, false, false}, // the depthwise layer on the pixels strategy
		{8, 20, 18, 3, 1, false, false}, // 20 channels of 324 pixels: the samples do not start on mask words
	} {
		p := int64(c.k / 2)
		dwAttrs := attrs{"group": c.m, "strides": []int64{int64(c.s), int64(c.s)}, "pads": []int64{p, p, p, p}}
		join := func(op Op) Op {
			j, ok := clip.Join(op, relu6, nil, true)
			if !ok {
				t.Fatal("Conv+Clip refused")
			}
			return j
		}
		first, then := join(newOp(t, "Conv", nil, 13, 3, 1)), join(newOp(t, "Conv", dwAttrs, 13, 3, 1))
		op, ok := chain.Join(first, then, [][]int{{-1, c.c, c.hw, c.hw}, {c.m, c.c, 1, 1}, {c.m}}, true)
		if !ok {
			t.Fatalf("%+v: the fusion refused a 1×1 Conv and a depthwise Conv", c)
		}
		in := []*Tensor{randTensor(rng, -1, 1, 2, c.c, c.hw, c.hw), randTensor(rng, -1, 1, c.m, c.c, 1, 1), randTensor(rng, -0.5, 1, c.m),
			randTensor(rng, -1, 1, c.m, 1, c.k, c.k), randTensor(rng, -0.5, 1, c.m)}
		for _, attack := range []bool{true, false} {
			name := fmt.Sprintf("%d→%d at %d×%d, %d×%d stride %d, attack %v", c.c, c.m, c.hw, c.hw, c.k, c.k, c.s, attack)
			need := []bool{true, true, true, true, true}
			if attack {
				need = []bool{true, false, false, false, false}
			}
			checkChain(t, name, op.(*convChain), first.(*conv), then.(*conv), in, need, c.blocks, attack && c.bands)
		}
	}
}

// checkChain runs ch and, apart, first and then, on in, for the
// gradients need wants, and compares; blocks says whether the forward pass
// must run in blocks, bands whether the backward pass in bands of rows.
func checkChain(t *testing.T, name string, ch *convChain, first, then *conv, in []*Tensor, need []bool, blocks, bands bool) {
	t.Helper()
	newState := func(need []bool) *State {
		return &State{Grad: true, Kernels: true, Buffers: &Buffers{}, Need: need}
	}
	s := newState(need)
	s1, s2 := ch.subStates(s)
	if _, ok, err := ch.blocked(s, s1, s2, in); err != nil || ok != blocks {
		t.Errorf("%s: ran in blocks %v (%v), want %v", name, ok, err, blocks)
	}
	y, err := ch.Forward(s, in)
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := newState(need[:3]), newState(append([]bool{true}, need[3:]...))
	ya, err := first.Forward(sa, in[:3])
	if err != nil {
		t.Fatal(err)
	}
	yb, err := then.Forward(sb, append([]*Tensor{ya[0]}, in[3:]...))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y[0].Data, yb[0].Data) {
		t.Errorf("%s: the pair's output differs from the two Convs'", name)
	}
	for k, st := range []*State{sa, sb} {
		want, got := st.Aux().(convArgs).mask, ch.sub[k].Aux().(convArgs).mask
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: Conv %d's mask differs (%d words against %d)", name, k+1, len(got), len(want))
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
	copy(want[3:], g2[1:])
	for i, w := range want {
		if need[i] != (w != nil) || len(got) <= i || (got[i] != nil) != (w != nil) {
			t.Errorf("%s: gradient %d: the pair gives %v, the Convs %v, wanted %v", name, i, got[i] != nil, w != nil, need[i])
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

// BenchmarkConvChain runs MobileNet-V2's expand and depthwise pairs at
// batch 16, forward in an attack's pass and in a training pass, joined (in
// blocks of channels) and apart (the expanded image written whole, then
// read).
func BenchmarkConvChain(b *testing.B) {
	chain, clip := fusionNamed(b, ChainFusion), fusionNamed(b, "Conv+Clip")
	var relu6 Op
	for _, p := range Patterns() {
		if p.Name == "Clip" {
			relu6, _ = p.Op([]float32{0, 6})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ c, m, hw, s int }{{16, 96, 112, 2}, {24, 144, 56, 1}, {24, 144, 56, 2}} {
		join := func(op Op) Op {
			j, _ := clip.Join(op, relu6, nil, true)
			return j
		}
		dwAttrs := attrs{"group": c.m, "strides": []int64{int64(c.s), int64(c.s)}, "pads": []int64{1, 1, 1, 1}}
		first, then := join(newOp(b, "Conv", nil, 13, 3, 1)), join(newOp(b, "Conv", dwAttrs, 13, 3, 1))
		op, _ := chain.Join(first, then, [][]int{{-1, c.c, c.hw, c.hw}, {c.m, c.c, 1, 1}, {c.m}}, true)
		in := []*Tensor{randTensor(rng, -1, 1, 16, c.c, c.hw, c.hw), randTensor(rng, -1, 1, c.m, c.c, 1, 1), randTensor(rng, -0.5, 1, c.m),
			randTensor(rng, -1, 1, c.m, 1, 3, 3), randTensor(rng, -0.5, 1, c.m)}
		for _, train := range []bool{false, true} {
			need := []bool{true, train, train, train, train}
			s := &State{Grad: true, Kernels: true, Buffers: &Buffers{}, Need: need}
			name := fmt.Sprintf("%d→%d_%dx%d_s%d/train=%v", c.c, c.m, c.hw, c.hw, c.s, train)
			b.Run(name+"/joined", func(b *testing.B) {
				for range b.N {
					s.Buffers.NextRun()
					y, _ := op.Forward(s, in)
					s.Buffers.Put(y[0].Data)
					if train {
						s.Buffers.Put(op.(*convChain).sub[1].saved[0].Data) // the expanded image
					}
				}
			})
			sa, sb := &State{Grad: true, Kernels: true, Buffers: s.Buffers, Need: need[:3]}, &State{Grad: true, Kernels: true, Buffers: s.Buffers, Need: need[2:]}
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
	chain, clip := fusionNamed(b, ChainFusion), fusionNamed(b, "Conv+Clip")
	var relu6 Op
	for _, p := range Patterns() {
		if p.Name == "Clip" {
			relu6, _ = p.Op([]float32{0, 6})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ c, m, hw, s int }{{16, 96, 112, 2}, {24, 144, 56, 1}, {24, 144, 56, 2}} {
		join := func(op Op) Op {
			j, _ := clip.Join(op, relu6, nil, true)
			return j
		}
		dwAttrs := attrs{"group": c.m, "strides": []int64{int64(c.s), int64(c.s)}, "pads": []int64{1, 1, 1, 1}}
		first, then := join(newOp(b, "Conv", nil, 13, 3, 1)), join(newOp(b, "Conv", dwAttrs, 13, 3, 1))
		op, _ := chain.Join(first, then, [][]int{{-1, c.c, c.hw, c.hw}, {c.m, c.c, 1, 1}, {c.m}}, true)
		in := []*Tensor{randTensor(rng, -1, 1, 16, c.c, c.hw, c.hw), randTensor(rng, -1, 1, c.m, c.c, 1, 1), randTensor(rng, -0.5, 1, c.m),
			randTensor(rng, -1, 1, c.m, 1, 3, 3), randTensor(rng, -0.5, 1, c.m)}
		need := []bool{true, false, false, false, false}
		s := &State{Grad: true, Kernels: true, Buffers: &Buffers{}, Need: need}
		y, err := op.Forward(s, in)
		if err != nil {
			b.Fatal(err)
		}
		dy := randTensor(rng, -1, 1, y[0].Shape...)
		sa, sb := &State{Grad: true, Kernels: true, Buffers: s.Buffers, Need: need[:3]}, &State{Grad: true, Kernels: true, Buffers: s.Buffers, Need: []bool{true, false, false}}
		ya, _ := first.Forward(sa, in[:3])
		if _, err := then.Forward(sb, append([]*Tensor{ya[0]}, in[3:]...)); err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("%d→%d_%dx%d_s%d", c.c, c.m, c.hw, c.hw, c.s)
		b.Run(name+"/joined", func(b *testing.B) {
			for range b.N {
				s.Buffers.NextRun()
				g, _ := op.Backward(s, []*Tensor{dy})
				s.Buffers.Put(g[0].Data)
			}
		})
		b.Run(name+"/apart", func(b *testing.B) {
			for range b.N {
				s.Buffers.NextRun()
				g2, _ := then.Backward(sb, []*Tensor{dy})
				g1, _ := first.Backward(sa, g2[:1])
				s.Buffers.Put(g2[0].Data)
				s.Buffers.Put(g1[0].Data)
			}
		})
	}
}
