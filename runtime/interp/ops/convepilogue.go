package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// What a Conv's folded Clip, Relu or gate does after the strategy's
// kernels: the Clip itself (convclip.go), the bit mask of where the
// gradient passes (the Relu's, the Clip's), the gate and its dy/dx
// (convgate.go). Over the whole batch each is a pass over memory once the
// output has left the cache: MobileNet-V2's Clips took 15.6 ms of its
// 226 ms FGSM pass at batch 16. A strategy that streams (streamer) runs
// them on each sample, or each block of planes, as soon as its kernels
// have written it, on the worker that wrote it. BenchmarkConvEpilogue
// (batch 16, 2-core AMD EPYC, six runs each), a layer with its ReLU6,
// streamed against after: 144×56×56 depthwise 6.6-7.4 against 7.6-7.9
// ms, 96×112×112 stride 2 9.0-11.7 against 11.0-13.4, 16→96 1×1 at
// 112×112 12.9-14.3 against 13.8-15.1 (three runs); with SiLU, whose
// exponentials cost more than the memory, within the spread. im2col does
// not stream: its sample's unfolded input fills the cache, and the first
// layer of MobileNet-V2 (3→32, stride 2) measured either way.

// A streamer is a forward strategy that calls a.finish on the ranges of
// the output it has written, where streams(a) says it will.
type streamer interface {
	// streams reports whether forward, for a, calls a.finish on ranges
	// of y that together cover it once, each starting at a multiple of
	// 64 elements (a mask word) and all but the last ending at one.
	streams(a convArgs) bool
}

// epilogue is the work after a Conv's kernels on its output y: nil where
// there is none.
type epilogue struct {
	ak    kernel.ActKernels
	mk    kernel.MaskKernels
	y     []float32
	clip  *[2]float32
	relu  bool     // the Relu ran in the kernels; the mask is still to take
	mask  reluMask // nil outside a gradient pass (or without a Clip or Relu)
	gate  *gate
	slope *Tensor // the gate's dy/dx, nil where it is not kept
}

// epilogue returns the work after c's kernels on y in the pass s: nil
// without a Clip or a gate, and without a Relu outside a gradient pass.
func (c *conv) epilogue(s *State, a convArgs, y *Tensor) *epilogue {
	if c.clip == nil && c.gate == nil && !(c.relu && s.Grad) {
		return nil
	}
	e := &epilogue{ak: kernel.Acts(a.kernels), mk: kernel.Masks(a.kernels), y: y.Data, clip: c.clip, relu: c.relu, gate: c.gate}
	if s.Grad && (c.clip != nil || c.relu) {
		e.mask = s.masks((Numel(y.Shape) + 63) / 64)
	}
	if c.gate != nil {
		e.slope = c.gateSlope(s, y)
	}
	return e
}

// run does the work on y[lo:hi]; lo is a multiple of 64, and so is hi
// unless it is y's end.
func (e *epilogue) run(lo, hi int) { e.runOn(e.y[lo:hi], lo) }

// runOn does the work on y, which holds the output's elements from lo, a
// multiple of 64, on: the output's own, or a block of them kept elsewhere
// (convchain.go's).
func (e *epilogue) runOn(y []float32, lo int) {
	words := part(e.mask, lo/64, (lo+len(y)+63)/64)
	// The fusions fold one of a Clip, a Relu and a gate into a Conv, and
	// epilogue takes a Relu only in a gradient pass, which has its mask.
	switch {
	case e.clip != nil:
		e.ak.Clip(y, y, words, e.clip[0], e.clip[1])
	case e.relu:
		e.mk.Positive(words, y)
	}
	if e.gate != nil {
		var d []float32
		if e.slope != nil {
			d = e.slope.Data[lo:][:len(y)]
		}
		e.gate.run(e.ak, y, d, y)
	}
}

// whole does the work on all of y, spread over the cores in blocks of
// whole mask words.
func (e *epilogue) whole() {
	n := len(e.y)
	forChunks((n+63)/64, 64*4, func(lo, hi int) {
		e.run(64*lo, min(64*hi, n))
	})
}

// finish runs the Conv's epilogue on y[lo:hi], which a streaming strategy
// has just written; nothing where there is none or the strategy does not
// stream for a.
func (a convArgs) finish(lo, hi int) {
	if a.epilogue != nil {
		a.epilogue.run(lo, hi)
	}
}

// samplesStream reports whether a strategy that finishes a sample at a
// time can stream a's output: each sample's output starts on a mask word.
func samplesStream(a convArgs) bool {
	return a.m*a.g.oh*a.g.ow%64 == 0
}

// finishSample runs the epilogue on sample i's output.
func (a convArgs) finishSample(i int) {
	size := a.m * a.g.oh * a.g.ow
	a.finish(i*size, (i+1)*size)
}

// planesPerBlock is the fewest planes of ohw elements whose floats fill
// whole mask words: a block's output starts on a word boundary.
func planesPerBlock(ohw int) int { return 64 / gcd(64, ohw) }

// gcd is the greatest common divisor of a and b, a positive.
func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
