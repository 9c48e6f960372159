package ops

import (
	"fmt"
	"runtime"
	"slices"
)

// A 1×1 Conv whose output only a depthwise Conv reads (MobileNet's and
// EfficientNet's expand layer, then the depthwise layer, each with its
// folded Clip, Relu or gate) runs as one node, its forward pass a block
// of channels at a time: the 1×1 kernel writes the block's planes, its
// epilogue takes their Clip and mask while they are in cache, and the
// depthwise kernel reads them at once. Where nothing needs the expanded
// image itself (inference, and an attack's gradient pass: only the
// depthwise layer's weight gradient reads it), the block is a buffer that
// stays in cache, and the image, 16×96×112×112 floats (77 MB) at
// MobileNet-V2's first expand layer, is never written to memory and read
// back; a training pass writes it, for that gradient, but reads none of it
// back. On shapes the blocks do not fit, and on batches of fewer samples
// than cores (the blocks run a sample to a core), the two Convs run one
// after the other, as they would apart; which, each pass decides from its
// shapes and from what it wants, which only the pass knows. Either way
// each keeps what its backward pass reads, and the backward pass runs the
// depthwise Conv's, then the 1×1 Conv's (or, in an attack's pass whose
// expanded image is larger than the cache, both in bands of rows:
// convchainbands.go).
// BenchmarkConvChain (MobileNet-V2's pairs with their ReLU6, batch 16, an
// attack's forward pass, 2-core AMD EPYC in a noisy spell, four runs),
// joined against apart: 16→96 at 112×112 then stride 2 8.8-10.5 against
// 15.6-21.8 ms, 24→144 at 56×56 4.7-8.5 against 6.2-10.0, the same then
// stride 2 3.3-6.1 against 5.2-8.2, 32→192 at 28×28 1.7-3.1 against
// 2.4-3.7, 64→384 at 14×14 1.4-2.6 against 1.4-2.9. Blocks of 32k to 128k
// floats measured alike. A training pass's forward, which keeps the
// expanded image, two runs: 13.7-14.1 against 15.4-17.1 ms at 112×112,
// 6.7-6.8 against 6.3-7.4 at 56×56, 4.8-5.4 against 5.2-6.7 at 56×56 then
// stride 2, 2.3 against 2.1-2.4 at 28×28, 1.4-1.6 against 1.6-1.9 at 14×14.
func init() {
	registerFusion(Fusion{Name: ChainFusion, First: "Conv", Then: "Conv", Operands: true,
		Join: func(first, then Op, shapes [][]int, kernels bool) (Op, bool) {
			a, ok := first.(*conv)
			b, ok2 := then.(*conv)
			if !ok || !ok2 || !kernels || a.group != 1 || b.group < 2 || len(shapes) < 2 {
				return nil, false
			}
			if w := shapes[1]; len(w) != 4 || w[2] != 1 || w[3] != 1 {
				return nil, false // not a 1×1 layer, or its weights' shape unknown
			}
			return &convChain{first: a, then: b, nFirst: len(shapes)}, true
		}})
}

// ChainFusion names the fusion of a 1×1 Conv and the depthwise Conv after
// it, which tests turn off to compare.
const ChainFusion = "Conv+depthwise Conv"

type convChain struct {
	first, then *conv
	nFirst      int      // the 1×1 Conv's inputs (X, W, and B where it has one); the depthwise Conv's W and B follow
	sub         [2]State // each Conv's state in the pass under way
	nIn         int      // inputs of the last forward pass
}

// chainBlockFloats is the size a block's expanded planes aim at: a
// quarter of the 1 MB of L2 cache each core of the 2-core AMD EPYC has,
// the rest for the depthwise layer's output and the 1×1 layer's input. A
// block is a whole number of 8 channels (and of the planes that fill mask
// words), so it may hold more: 8×112×112 floats, 392 kB, at MobileNet-V2's
// first expand layer.
const chainBlockFloats = 64 << 10

// subStates readies each Conv's state for a pass of s: the settings of
// s, and the gradients each must give, from what s wants of the fused
// node's inputs.
func (c *convChain) subStates(s *State) (first, then *State) {
	first, then = &c.sub[0], &c.sub[1]
	for _, sub := range []*State{first, then} {
		sub.Training, sub.FreezeBatchNorm, sub.Grad, sub.Rand = s.Training, s.FreezeBatchNorm, s.Grad, s.Rand
		sub.Buffers, sub.Kernels, sub.Limit = s.Buffers, s.Kernels, s.Limit
	}
	first.Need = first.Need[:0]
	wanted := false // anything of the 1×1 Conv's: then the expanded image's gradient
	for i := range c.nFirst {
		first.Need = append(first.Need, s.Needs(i))
		wanted = wanted || s.Needs(i)
	}
	then.Need = append(then.Need[:0], wanted)
	for i := c.nFirst; i < c.nIn; i++ {
		then.Need = append(then.Need, s.Needs(i))
	}
	return first, then
}

func (c *convChain) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < c.nFirst+1 {
		return nil, fmt.Errorf("Conv pair: %d inputs, want the 1×1 Conv's %d and the depthwise Conv's weights", len(in), c.nFirst)
	}
	c.nIn = len(in)
	for i := range c.sub {
		c.sub[i].Release()
	}
	s1, s2 := c.subStates(s)
	if y, ok, err := c.blocked(s, s1, s2, in); ok || err != nil {
		return y, err
	}
	y1, err := c.first.Forward(s1, in[:c.nFirst])
	if err != nil {
		return nil, err
	}
	y2, err := c.then.Forward(s2, append([]*Tensor{y1[0]}, in[c.nFirst:]...))
	if err != nil {
		s.Buffers.Put(y1[0].Data)
		return nil, fmt.Errorf("the depthwise Conv after the 1×1 Conv: %w", err)
	}
	if !slices.Contains(s2.saved, y1[0]) {
		s.Buffers.Put(y1[0].Data) // read by no backward rule
	}
	c.save(s)
	return y2, nil
}

// save keeps what both Convs saved, so that the executor holds it until
// the backward pass.
func (c *convChain) save(s *State) {
	s.Save(append(slices.Clone(c.sub[0].saved), c.sub[1].saved...)...)
}

func (c *convChain) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	s1, s2 := c.subStates(s)
	// What the Convs kept is the executor's to recycle once the pass is
	// past this node: let go of it here.
	defer s1.Release()
	defer s2.Release()
	if dx, ok := c.bandBackward(s, s1, s2, dy[0]); ok {
		grads := make([]*Tensor, c.nIn)
		grads[0] = dx
		return grads, nil
	}
	g2, err := c.then.Backward(s2, dy)
	if err != nil {
		return nil, err
	}
	grads := make([]*Tensor, c.nIn)
	copy(grads[c.nFirst:], g2[1:])
	if s2.Needs(0) && g2[0] != nil {
		g1, err := c.first.Backward(s1, g2[:1])
		s.Buffers.Put(g2[0].Data) // the expanded image's gradient, read by the 1×1 Conv's rule alone
		if err != nil {
			return nil, err
		}
		copy(grads[:c.nFirst], g1)
	}
	return grads, nil
}

// chainBlock is the blocked forward pass's layout: the two Convs' checked
// operands and the channels a block holds.
type chainBlock struct {
	a1, a2 convArgs
	rows   rowsConv // the depthwise layer's plan
	per    int      // channels a block
}

// blocked runs the forward pass a block of channels at a time where it
// can (ok true), and reports ok false, having run nothing, where it
// cannot: the windows are not a 1×1 and a depthwise layer on the rows
// strategy, or the blocks' outputs do not start on mask words.
func (c *convChain) blocked(s *State, s1, s2 *State, in []*Tensor) (y []*Tensor, ok bool, err error) {
	if !s.Kernels {
		return nil, false, nil
	}
	var b chainBlock
	if b.a1, err = c.first.operands(in[:c.nFirst]); err != nil {
		return nil, false, err
	}
	g1 := b.a1.g
	if b.a1.oneD || !pointwiseWindow(g1) {
		return nil, false, nil
	}
	if err := s.fits(b.a1.n, b.a1.m, g1.oh, g1.ow); err != nil {
		return nil, false, err
	}
	x2 := &Tensor{Shape: []int{b.a1.n, b.a1.m, g1.oh, g1.ow}} // its shape, until it is kept
	if b.a2, err = c.then.operands(append([]*Tensor{x2}, in[c.nFirst:]...)); err != nil {
		return nil, false, fmt.Errorf("the depthwise Conv after the 1×1 Conv: %w", err)
	}
	b.a1.kernels, b.a2.kernels = true, true
	if b.a1.n < runtime.GOMAXPROCS(0) {
		return nil, false, nil // the blocks run a sample to a core: apart, the depthwise layer spreads its planes over them
	}
	g2 := b.a2.g
	if err := s.fits(b.a2.n, b.a2.m, g2.oh, g2.ow); err != nil {
		return nil, false, err
	}
	if b.a2.oneD || b.a2.group != b.a1.m || b.a2.m != b.a1.m {
		return nil, false, nil
	}
	if b.rows, ok = c.then.planFor(b.a2.key()).fwd.(rowsConv); !ok {
		return nil, false, nil
	}
	hw, ohw := g1.oh*g1.ow, g2.oh*g2.ow
	// Every block's planes start on mask words, in both layers, and fill
	// the 1×1 kernel's tiles of 8 channels.
	step := lcm(lcm(planesPerBlock(hw), planesPerBlock(ohw)), 8)
	b.per = max(step, min(b.a1.m, chainBlockFloats/hw)/step*step)
	if b.a1.m*hw%64 != 0 || b.a1.m*ohw%64 != 0 {
		return nil, false, nil
	}
	if s.Grad && s2.Needs(1) { // the depthwise weights' gradient reads it
		b.a2.x = s.alloc(false, x2.Shape...)
	}
	return c.runBlocks(s, s1, s2, b), true, nil
}

// runBlocks is the blocked forward pass: for each sample, for each block
// of channels, the 1×1 kernel into the worker's buffer (or, where a2 keeps
// the expanded image, into it), its epilogue there, the depthwise kernel
// from it into the output, and the output's epilogue. Each Conv's state
// then holds what its Forward would have kept.
func (c *convChain) runBlocks(s *State, s1, s2 *State, b chainBlock) []*Tensor {
	a1, a2 := b.a1, b.a2
	g1, g2 := a1.g, a2.g
	n, m, hw, ohw := a1.n, a1.m, g1.oh*g1.ow, g2.oh*g2.ow
	y := s.alloc(false, n, m, g2.oh, g2.ow)
	// The 1×1 layer's epilogue keeps the mask and slopes of its whole
	// output, which it takes block by block (runOn), never written whole.
	e1 := c.first.epilogue(s1, a1, &Tensor{Shape: []int{n, m, g1.oh, g1.ow}})
	e2 := c.then.epilogue(s2, a2, y)
	a2.epilogue = e2
	// A plan for each block of the 1×1 layer's output channels: its
	// weights' rows and biases.
	plans := make([]*directPlan, (m+b.per-1)/b.per)
	for k := range plans {
		k0 := k * b.per
		plans[k] = planDirect(s, g1, a1.w.Data[k0*g1.c:], a1.biasFrom(k0), min(b.per, m-k0), 1, a1.relu)
		defer plans[k].release(s)
	}
	workers := min(n, runtime.GOMAXPROCS(0))
	bufs, scratch := make([][]float32, workers), make([][]float32, workers)
	need := 0
	for _, p := range plans {
		need = max(need, p.scratchLen())
	}
	for wk := range workers {
		if a2.x.Data == nil {
			bufs[wk] = s.scratch(min(b.per, m) * hw)
		}
		scratch[wk] = s.scratch(need)
	}
	defer putAll(s.Buffers, bufs, scratch)
	chw := g1.c * hw
	forSamples(n, workers, false, func(wk, i int) {
		img := a1.x.Data[i*chw:][:chw]
		for k, plan := range plans {
			k0, kn := k*b.per, plan.m
			var buf []float32
			if kept := a2.x.Data; kept != nil {
				buf = kept[(i*m+k0)*hw:][:kn*hw]
			} else {
				buf = bufs[wk][:kn*hw]
			}
			plan.run(buf, img, scratch[wk], 0)
			if e1 != nil {
				e1.runOn(buf, (i*m+k0)*hw)
			}
			lo := (i*m + k0) * ohw
			b.rows.p.channels(y.Data[lo:], buf, a2, k0, kn)
			a2.finish(lo, lo+kn*ohw)
		}
	})
	a2.epilogue = nil
	keepForBackward(s1, a1, e1)
	keepForBackward(s2, a2, e2) // a2.x kept only where its dW is wanted (blocked)
	c.save(s)
	return []*Tensor{y}
}

// ConvParts are the two Convs, each as planned.
func (c *convChain) ConvParts() []ConvPlanned { return []ConvPlanned{c.first, c.then} }

// lcm is the least common multiple of a and b, both positive.
func lcm(a, b int) int { return a / gcd(a, b) * b }
