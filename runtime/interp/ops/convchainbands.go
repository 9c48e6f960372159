package ops

import (
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// An attack's backward pass through a Conv pair (convchain.go) wants the
// input's gradient alone: dX = W1ᵀ·(the 1×1 layer's Clip, Relu or gate
// applied to dY1), where dY1, the gradient of the expanded image, is the
// depthwise layer's dX. Run one Conv after the other, dY1 is as large as
// the expanded image (77 MB over a batch of 16 at MobileNet-V2's first
// expand layer) and goes to memory and back, twice with the pass that
// applies the Clip. Here each sample runs a band of rows at a time: the
// depthwise layer's rows kernel writes that band of every channel of dY1
// into a buffer that stays in cache (kernel.RowRuns.Band), the Clip's mask
// is applied there, and the 1×1 kernel turns the band into the same rows
// of dX. The sums are the two Convs', bit for bit.
// BenchmarkConvChainBackward (batch 16, 2-core AMD EPYC, two runs, a
// forward pass untimed before each backward pass), in bands against
// apart: 16→96 at 112×112 then stride 2 11.6-12.5 against 18.0-18.5 ms,
// 24→144 at 56×56 6.1-7.0 against 7.0-7.3, the same then stride 2 4.5-4.7
// against 6.4-7.1. Bands of 32k to 256k floats measured
// alike, and 32→192 at 28×28 and 64→384 at 14×14 (below chainBandMin)
// within the spread either way.

// rowRunner is a depthwise layer's dX step on the rows kernels.
type rowRunner interface {
	// rowRuns returns the runs, each plane's weights (wPlane floats
	// apart), the floats of a plane of dY, and the width and height of
	// dX's planes.
	rowRuns() (runs *kernel.RowRuns, wts []float32, wPlane, dyPlane, w, h int)
}

// chainBandFloats bounds a band of dY1 over every channel: 256 kB, a
// quarter of the 1 MB of L2 cache each core of the 2-core AMD EPYC has.
const chainBandFloats = 64 << 10

// chainBandMin is the size of dY1 over the batch from which the backward
// pass runs in bands: 16 MB, half the 2-core AMD EPYC's L3 cache. Below it
// dY1 stays in cache anyway.
const chainBandMin = 4 << 20

// bandBackward runs an attack's backward pass in bands (ok true), and
// reports ok false, having run nothing, where the pass wants other
// gradients (or does not say, for every input, whether it wants one), dY1
// is small, or the layers are not a 1×1 Conv and a depthwise one whose dX
// runs on the rows kernels.
func (c *convChain) bandBackward(s, s1, s2 *State, dy *Tensor) (dx *Tensor, ok bool) {
	for i, need := range s.Need {
		if need != (i == 0) {
			return nil, false
		}
	}
	a1, ok1 := s1.Aux().(convArgs)
	a2, ok2 := s2.Aux().(convArgs)
	if len(s.Need) < c.nIn || !ok1 || !ok2 || !a1.kernels || a1.oneD || a2.oneD || !pointwiseWindow(a1.g) {
		return nil, false
	}
	n, m, hw := a1.n, a1.m, a1.g.oh*a1.g.ow
	if n*m*hw < chainBandMin {
		return nil, false
	}
	dx2 := c.then.planFor(a2.key()).dx
	switch dx2.(type) {
	case rowsInput, rowsUpInput:
	default:
		return nil, false
	}
	workers := min(n, runtime.GOMAXPROCS(0))
	step := dx2.begin(s2, a2, workers, nil)
	defer step.release(s2)
	b := chainBands{a1: a1, a2: a2}
	runs, wts, wPlane, dyPlane, w, h := step.(rowRunner).rowRuns()
	if w*h != hw {
		return nil, false
	}
	b.wts, b.wPlane, b.dyPlane, b.w, b.h = wts, wPlane, dyPlane, w, h
	b.rows = max(1, min(h, chainBandFloats/(m*w)))
	for r0 := 0; r0 < h; r0 += b.rows {
		rows := min(h, r0+b.rows) - r0
		band := rowBand{runs: runs.Band(r0*w, (r0+rows)*w), r0: r0, rows: rows}
		if band.runs == nil {
			return nil, false
		}
		b.bands = append(b.bands, band)
	}
	b.plan(s)
	defer b.release(s)
	dx = s.alloc(false, a1.x.Shape...)
	b.run(s, dx.Data, dy.Data, workers)
	return dx, true
}

// pointwiseWindow reports whether g is a 1×1 window that maps each pixel
// to itself: unit strides and dilations, no padding.
func pointwiseWindow(g geom2d) bool {
	return g.kh == 1 && g.kw == 1 && g.dh == 1 && g.dw == 1 && plainPointwise(g)
}

// chainBands is bandBackward's layout: the two Convs' saved operands, the
// depthwise dX's weights, the bands of rows, and the 1×1 layer's
// transposed weights with a plan for each band height.
type chainBands struct {
	a1, a2          convArgs
	wts             []float32
	wPlane, dyPlane int
	w, h, rows      int // dY1's planes, and the rows of a band
	bands           []rowBand
	wf              []float32
	plans           []*directPlan // one for each band height
}

// A rowBand is rows of dY1's planes from row r0: the depthwise dX's runs
// that write them, and the 1×1 layer's dX plan over them.
type rowBand struct {
	runs     *kernel.RowRuns
	r0, rows int
	plan     *directPlan
}

// plan transposes the 1×1 layer's weights and plans its dX for each band
// height (the bands' and the last one's).
func (b *chainBands) plan(s *State) {
	a1 := b.a1
	m, c := a1.m, a1.g.c
	b.wf = s.scratch(a1.w.Len())
	flipWeights(a1.kernels, b.wf, a1.w.Data, 1, m, a1.g)
	byRows := map[int]*directPlan{}
	for k, band := range b.bands {
		if byRows[band.rows] == nil {
			g := geom2d{c: m, h: band.rows, w: b.w, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: band.rows, ow: b.w}
			byRows[band.rows] = planDirect(s, g, b.wf, nil, c, 1, false)
			b.plans = append(b.plans, byRows[band.rows])
		}
		b.bands[k].plan = byRows[band.rows]
	}
}

func (b *chainBands) release(s *State) {
	for _, p := range b.plans {
		p.release(s)
	}
	s.Buffers.Put(b.wf)
}

// run writes dx, the batch's, from dy, the depthwise layer's output
// gradient, a sample at a time on workers.
func (b *chainBands) run(s *State, dx, dy []float32, workers int) {
	a1, a2 := b.a1, b.a2
	m, c, hw := a1.m, a1.g.c, b.w*b.h
	need := 1
	for _, p := range b.plans {
		need = max(need, p.scratchLen())
	}
	masked, bands, outs, scratch := make([][]float32, workers), make([][]float32, workers), make([][]float32, workers), make([][]float32, workers)
	for wk := range workers {
		if a2.mask != nil || a2.gated != nil {
			masked[wk] = s.scratch(m * b.dyPlane)
		}
		bands[wk], outs[wk], scratch[wk] = s.scratch(m*b.rows*b.w), s.scratch(c*b.rows*b.w), s.scratch(need)
	}
	defer putAll(s.Buffers, masked, bands, outs, scratch)
	forSamples(a1.n, workers, false, func(wk, i int) {
		dyi := a2.through(masked[wk], dy, i*m*b.dyPlane, m*b.dyPlane)
		for _, bd := range b.bands {
			px, at := bd.rows*b.w, bd.r0*b.w // floats of a plane in the band, and the band's first
			band := bands[wk][:m*px]
			bd.runs.DepthwisePlanes(band, dyi, b.wts, nil, m, px, b.dyPlane, b.wPlane, false)
			for ch := range m {
				x := band[ch*px:][:px]
				a1.pass(x, x, (i*m+ch)*hw+at)
			}
			out := outs[wk][:c*px]
			bd.plan.run(out, band, scratch[wk], 0)
			for ch := range c {
				copy(dx[(i*c+ch)*hw+at:][:px], out[ch*px:][:px])
			}
		}
	})
}
