package ops

import (
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// The pixels strategy, for depthwise convolutions on small planes with
// many channels: MobileNet-V3's and EfficientNet-B0's 7×7 and 14×14
// layers of 3×3 and 5×5 kernels, 480 to 1152 channels. The phases
// strategy runs a plane at a time in tiles of 192 pixels, of which a 7×7
// plane at a pitch of 11 fills 49; here each sample's planes are
// transposed into a padded grid of pixels, channels innermost (rounded up
// to 16), and each output pixel is 16 channels a vector, every lane used
// (kernel.DepthwiseRow); the output is transposed back to planes. The
// transposes are one pass over the sample each way, small next to the
// 9 or 25 taps. Backward, dX is the same convolution of dY, spread out
// to the strides with zeros between, with each kernel turned 180° (at
// stride 2 three quarters of the terms are zeros, as in a 192-pixel tile
// of a 7×7 plane), and each tap's dW the sum over the pixels of dY times
// the grid shifted by the tap (kernel.DepthwiseGradRow).
func init() {
	registerConvStrategy(convStrategy{name: "pixels", rank: 80, vector: true,
		forward: func(k convKey) convForward {
			if l := newPixelLayout(k, k.g, pixelsMaxIn(k.g), pixelsMaxPlane); l != nil {
				return pixelsConv{l}
			}
			return nil
		},
		inputGrad: func(k convKey) convGradient {
			limit := pixelsMaxPlane
			if k.g.sh <= 2 && k.g.sw <= 2 {
				limit = pixelsMaxInputPlane
			}
			if l := newPixelLayout(k, spread(k.g), limit, limit); l != nil {
				l.sh, l.sw = k.g.sh, k.g.sw
				return pixelsInput{l}
			}
			return nil
		},
		weightGrad: func(k convKey) convGradient {
			if l := newPixelLayout(k, k.g, pixelsMaxIn(k.g), pixelsMaxPlane); l != nil {
				return pixelsWeights{l}
			}
			return nil
		},
	})
}

// pixelsMaxPlane is the largest plane, in and out, the pixels strategy
// takes for the forward pass and dW of a layer that does not halve its
// plane: at 28×28 the phases tiles are mostly full (a 3×3 plane at
// pitch 30 fills 840 of 960 pixels) and the transposes eat what the
// lanes save. BenchmarkDepthwiseStrategies (batch 16, AVX-512, 2 shared
// cores), forward, phases against pixels: 192×28×28 3×3 1.6-1.7 and
// 2.6-2.7 ms, 240×28×28 5×5 3.6-4.0 and 4.2-4.5 ms; at 14×14 and 7×7
// pixels win, 672×14×14 5×5 8.5-15.7 and 6.3-6.7 ms, 1152×7×7 5×5
// 9.9-12.8 and 2.6-3.7 ms, 960×7×7 3×3 3.8-4.8 and 0.8-0.9 ms. Those
// transposes gathered 16 lanes from 16 planes; on kernel.Transpose's
// 16×16 blocks (2-core AMD EPYC, 2026-12-07, four runs each) pixels took
// the 28×28 3×3 layers' forward in 0.70-0.75 against 1.06-2.05 ms (144
// channels) and 1.5-1.7 against 1.8-2.2 (192), but 120×28×28 5×5 in
// 2.5-2.8 against 2.1-2.3: too mixed to move the limit on one machine.
const pixelsMaxPlane = 14 * 14

// pixelsMaxInputPlane is the largest input plane the pixels strategy
// takes for a stride-2 layer's forward pass and dW (pixelsMaxIn), and
// for the input's gradient (the part an attack runs backward) at strides
// 1 and 2.
//
// From 28×28 to 14×14 at stride 2 pixels win throughout
// (BenchmarkDepthwiseStrategies, batch 16, 2-core AMD EPYC, two runs
// each, phases against pixels): forward 2.5 against 1.0-1.1 ms (192
// channels, 3×3), 2.4 against 1.3-1.4 (240, 3×3), 2.7-4.2 against
// 1.3-1.4 (240, 5×5), 2.2 against 0.6 (144, 5×5); dX 4.7-5.2 against
// 3.6-3.8, 5.0-7.1 against 3.5, 4.4-4.9 against 3.9-4.6, 3.2-3.5 against
// 2.5-2.7; dX and dW together 9.6-10.7 against 5.4-5.9 (192, 3×3),
// 14.5-15.9 against 6.3-7.1 and 6.8-8.3 against 4.3-4.8 (the 5×5 layers).
//
// dX at unit stride wins at 28×28 too (same benchmark, dX alone, phases
// against pixels): 144×28×28 3×3 5.5-7.0 and 3.4-3.7 ms, 192×28×28 3×3
// 4.2-5.7 and 3.5-4.5 ms, 240×28×28 3×3 6.4-8.5 and 5.1-5.4 ms,
// 120×28×28 5×5 4.1-5.0 and 3.0-4.6 ms (240×28×28 5×5 even, 9.6-13.7 and
// 10.3-15.3 ms). Larger strides keep pixelsMaxPlane: they were not
// measured.
const pixelsMaxInputPlane = 28 * 28

// pixelsMaxIn is the largest input plane the pixels strategy takes for
// g's forward pass and dW: a stride-2 layer's may be four times its
// output's limit.
func pixelsMaxIn(g geom2d) int {
	if g.sh == 2 && g.sw == 2 {
		return pixelsMaxInputPlane
	}
	return pixelsMaxPlane
}

// pixelLayout is the grid of one depthwise window g (a Conv's, or the
// flipped one of its input's gradient): hg×wg pixels of cp floats, the
// image at row ph and column pw, zeros around it and past the channels.
// The image's pixels lie sh rows and sw columns apart (1 but for the
// gradient of a strided Conv's input: spread).
type pixelLayout struct {
	g      geom2d
	c, cp  int     // channels (groups), and rounded up to 16
	hg, wg int     // grid rows and columns
	sh, sw int     // the image's pixel spacing in the grid
	toff   []int64 // per tap (kh×kw order): its offset in the grid, in floats
}

// spread returns the window that computes the gradient of g's input,
// as the unit-stride convolution, with each kernel turned 180°, of g's
// dY spread out to g's strides: dY pixel (oy, ox) at (oy·sh, ox·sw),
// zeros between (at unit stride, the flipped window).
func spread(g geom2d) geom2d {
	f := g.flipped(1)
	f.h, f.w = (g.oh-1)*g.sh+1, (g.ow-1)*g.sw+1
	return f
}

// newPixelLayout returns the layout of window g for the depthwise Conv
// k, or nil where the strategy does not take it: off the vector kernels,
// not depthwise, fewer than 16 channels, a plane in past maxIn pixels or
// out past maxOut, a grid past 4·maxIn, or negative padding (the image
// would not fit the grid).
func newPixelLayout(k convKey, g geom2d, maxIn, maxOut int) *pixelLayout {
	if !k.kernels || k.group < 16 || k.g.c != 1 || k.mg() != 1 || g.oh <= 0 || g.ow <= 0 ||
		g.h*g.w > maxIn || g.oh*g.ow > maxOut || g.ph < 0 || g.pw < 0 {
		return nil
	}
	l := &pixelLayout{g: g, c: k.group, cp: (k.group + 15) &^ 15, sh: 1, sw: 1}
	l.hg = max((g.oh-1)*g.sh+(g.kh-1)*g.dh+1, g.ph+g.h)
	l.wg = max((g.ow-1)*g.sw+(g.kw-1)*g.dw+1, g.pw+g.w)
	// Pads, dilations and strides far past the plane (a hostile file's)
	// would make the grid, not the plane, the size of the work.
	if l.hg*l.wg > 4*maxIn {
		return nil
	}
	for ki := range g.kh {
		for kj := range g.kw {
			l.toff = append(l.toff, int64((ki*g.dh*l.wg+kj*g.dw)*l.cp))
		}
	}
	return l
}

func (l *pixelLayout) gridLen() int { return l.hg * l.wg * l.cp }

func (l *pixelLayout) outLen() int { return l.g.oh * l.g.ow * l.cp }

// packWeights lays w (c kernels of kh·kw) out as cp floats a tap, turned
// 180° where flip is set, zeros past the channels.
func (l *pixelLayout) packWeights(wp, w []float32, flip bool) {
	taps := len(l.toff)
	clear(wp)
	for ch := range l.c {
		for t, v := range w[ch*taps:][:taps] {
			if flip {
				t = taps - 1 - t
			}
			wp[t*l.cp+ch] = v
		}
	}
}

// run writes y (c planes of oh×ow) from img (c planes of h×w): img into
// grid (zeroed once: the padding and the channels past c are never
// written), the taps into out (oh·ow pixels of cp), out back to planes.
func (l *pixelLayout) run(y, img, wp, bias, grid, out []float32, relu bool) {
	l.toGrid(grid, img)
	l.taps(out, grid, wp, bias, relu, 0, l.g.oh)
	l.toPlanes(y, out, 0, (l.g.oh*l.g.ow+15)/16)
}

// runRows is run with the output rows, and then the pixels, shared out
// among the cores: for a batch smaller than the cores.
func (l *pixelLayout) runRows(y, img, wp, bias, grid, out []float32, relu bool) {
	g := l.g
	l.toGrid(grid, img)
	forChunks(g.oh, g.ow*l.cp*len(l.toff), func(lo, hi int) { l.taps(out, grid, wp, bias, relu, lo, hi) })
	forChunks((g.oh*g.ow+15)/16, 16*l.cp, func(lo, hi int) { l.toPlanes(y, out, lo, hi) })
}

// taps computes the output rows [lo, hi) into out from the grid.
func (l *pixelLayout) taps(out, grid, wp, bias []float32, relu bool, lo, hi int) {
	g, cp := l.g, l.cp
	for oy := lo; oy < hi; oy++ {
		kernel.DepthwiseRow(out[oy*g.ow*cp:], grid[oy*g.sh*l.wg*cp:], wp, bias, l.toff, g.ow, cp, g.sw*cp, relu)
	}
}

// toPlanes writes the pixels of out in the groups of 16 [lo, hi) to the
// planes y, every channel of a group before the next, so that the lines
// they lie on stay in cache.
func (l *pixelLayout) toPlanes(y, out []float32, lo, hi int) {
	ohw := l.g.oh * l.g.ow
	if p := 16 * lo; p < ohw {
		kernel.Transposes(true).Matrix(y[p:], out[p*l.cp:], min(16*hi, ohw)-p, l.c, ohw, l.cp)
	}
}

// toGrid writes img (c planes of the image's pixels, h×w spaced sh×sw
// apart) into the grid at row ph, column pw.
func (l *pixelLayout) toGrid(grid, img []float32) {
	g := l.g
	l.toPixels(grid[(g.ph*l.wg+g.pw)*l.cp:], img, (g.h-1)/l.sh+1, (g.w-1)/l.sw+1, l.sh*l.wg, l.sw)
}

// toPixels writes planes (c of rows×cols) to dst, rows pitch pixels and
// columns step pixels apart, channels innermost; it writes no channel
// past c.
func (l *pixelLayout) toPixels(dst, planes []float32, rows, cols, pitch, step int) {
	n := rows * cols
	for b := 0; b < l.c; b += 16 {
		for r := range rows {
			kernel.Transpose(dst[r*pitch*l.cp+b:], planes[b*n+r*cols:], min(16, l.c-b), cols, step*l.cp, n)
		}
	}
}

// scratch returns workers grids, zeroed, and outputs.
func (l *pixelLayout) scratch(s *State, workers int) (grids, outs [][]float32) {
	grids, outs = make([][]float32, workers), make([][]float32, workers)
	for wk := range workers {
		grids[wk], outs[wk] = s.Buffers.Get(l.gridLen(), true), s.scratch(l.outLen())
	}
	return grids, outs
}

type pixelsConv struct{ l *pixelLayout }

func (c pixelsConv) forward(s *State, a convArgs, y *Tensor) {
	l := c.l
	wp, bias := s.scratch(len(l.toff)*l.cp), s.Buffers.Get(l.cp, true)
	defer s.Buffers.Put(wp)
	defer s.Buffers.Put(bias)
	l.packWeights(wp, a.w.Data, false)
	copy(bias, a.bias())
	procs := runtime.GOMAXPROCS(0)
	chw, ohw := a.m*a.g.h*a.g.w, a.m*a.g.oh*a.g.ow
	if a.n < procs { // a sample at a time, its rows shared among the cores
		grids, outs := l.scratch(s, 1)
		defer putAll(s.Buffers, grids, outs)
		for i := range a.n {
			l.runRows(y.Data[i*ohw:][:ohw], a.x.Data[i*chw:][:chw], wp, bias, grids[0], outs[0], a.relu)
		}
		return
	}
	grids, outs := l.scratch(s, procs)
	defer putAll(s.Buffers, grids, outs)
	forSamples(a.n, procs, false, func(wk, i int) {
		l.run(y.Data[i*ohw:][:ohw], a.x.Data[i*chw:][:chw], wp, bias, grids[wk], outs[wk], a.relu)
		a.finishSample(i)
	})
}

// streams where forward takes the batch a sample a core.
func (pixelsConv) streams(a convArgs) bool {
	return a.n >= runtime.GOMAXPROCS(0) && samplesStream(a)
}

// pixelsInput computes dX: the flipped window over dY, spread out to the
// strides (spread).
type pixelsInput struct{ l *pixelLayout }

func (p pixelsInput) begin(s *State, a convArgs, workers int, _ gemmFunc) convStep {
	l := p.l
	st := pixelsInputStep{l: l, wf: s.scratch(len(l.toff) * l.cp), zero: s.Buffers.Get(l.cp, true)}
	l.packWeights(st.wf, a.w.Data, true)
	st.grids, st.outs = l.scratch(s, workers)
	return st
}

type pixelsInputStep struct {
	l           *pixelLayout
	wf, zero    []float32
	grids, outs [][]float32
}

// sample writes one sample's dX, all channels, from its dY.
func (st pixelsInputStep) sample(wk int, dx, dy, _ []float32) {
	st.l.run(dx, dy, st.wf, st.zero, st.grids[wk], st.outs[wk], false)
}

func (st pixelsInputStep) release(s *State) {
	s.Buffers.Put(st.wf)
	s.Buffers.Put(st.zero)
	putAll(s.Buffers, st.grids, st.outs)
}

// pixelsWeights computes dW: per sample, x into the grid, dY into pixels
// (oh·ow of cp), the taps' sums over them, added to the worker's dW.
type pixelsWeights struct{ l *pixelLayout }

func (p pixelsWeights) begin(s *State, a convArgs, workers int, _ gemmFunc) convStep {
	l := p.l
	st := pixelsWeightsStep{l: l, sums: make([][]float32, workers)}
	// dY's pixels past the channels stay unread: sample sums channels
	// below c alone.
	st.grids, st.dys = l.scratch(s, workers)
	for wk := range workers {
		st.sums[wk] = s.scratch(len(l.toff) * l.cp)
	}
	return st
}

type pixelsWeightsStep struct {
	l                *pixelLayout
	grids, dys, sums [][]float32
}

// sample adds one sample's dW, all channels, to dw.
func (st pixelsWeightsStep) sample(wk int, dw, dy, x []float32) {
	l, g, cp := st.l, st.l.g, st.l.cp
	grid, dyp, sums := st.grids[wk], st.dys[wk], st.sums[wk]
	l.toGrid(grid, x)
	l.toPixels(dyp, dy, g.oh, g.ow, g.ow, 1)
	clear(sums)
	for oy := range g.oh {
		kernel.DepthwiseGradRow(sums, dyp[oy*g.ow*cp:], grid[oy*g.sh*l.wg*cp:], l.toff, g.ow, cp, g.sw*cp)
	}
	taps := len(l.toff)
	for ch := range l.c {
		for t, v := range dw[ch*taps:][:taps] {
			dw[ch*taps+t] = v + sums[t*cp+ch]
		}
	}
}

func (st pixelsWeightsStep) release(s *State) { putAll(s.Buffers, st.grids, st.dys, st.sums) }
