package ops

import (
	"math"
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// The gradient a 2×2 max pool sends back is sparse: each window passes
// its gradient to one of its four inputs, and a Relu before the pool
// drops the windows whose maximum is not positive. So a fused Conv and
// MaxPool (convPool) need not run its backward convolutions over the
// whole of the Conv's output, three quarters zeros: each nonzero, at
// output channel co and pixel (oy, ox), adds
//
//	g · W[co, ci, ky, kx]   to dX[ci, oy+ky·dh−ph, ox+kx·dw−pw]
//	g · X[ci, oy+ky·dh−ph, ox+kx·dw−pw]   to dW[co, ci, ky, kx]
//
// for every input channel and tap. With the input channels innermost
// (pixel-major grids of the padded image, weights as [co][tap][ci]),
// each tap is one 16-lane multiply-add per 16 channels (kernel.AxpyTerms),
// a quarter of the dense work or less. It pays where the channels fill
// the lanes: a layer of 16 input channels or more.
type sparsePool struct {
	cp         int     // floats per grid pixel: the input channels rounded up to 16
	taps       int     // kh·kw
	hg, wg     int     // the grid: the padded image
	gridSteps  []int64 // per term (tap, block of 16 channels): byte offset in the grid
	wSteps     []int64 // per term: byte offset in an output channel's weight row
	pixelBytes int
	rowBytes   int // bytes of an output channel's weights, taps·cp floats
}

// sparseFor returns the sparse layout for convPool's backward on a Conv of
// window g and group count group with m output channels, or nil where the
// dense backward serves: groups, fewer than 16 input channels, negative
// padding (the image does not fit in the grid, which toGrid and fromGrid
// take whole), or byte offsets past int32.
func sparseFor(g geom2d, group, m int) *sparsePool {
	if group != 1 || g.c < 16 {
		return nil
	}
	cp := (g.c + 15) &^ 15
	sp := &sparsePool{cp: cp, taps: g.kh * g.kw, hg: g.oh + (g.kh-1)*g.dh, wg: g.ow + (g.kw-1)*g.dw}
	if g.ph < 0 || g.pw < 0 || sp.hg < g.ph+g.h || sp.wg < g.pw+g.w {
		return nil
	}
	sp.pixelBytes = 4 * cp
	sp.rowBytes = 4 * sp.taps * cp
	if int64(sp.gridLen())*4 >= math.MaxInt32 || int64(m)*int64(sp.rowBytes) >= math.MaxInt32 {
		return nil
	}
	for ky := range g.kh {
		for kx := range g.kw {
			for b := range cp / 16 {
				tap := ky*g.kw + kx
				sp.gridSteps = append(sp.gridSteps, int64(((ky*g.dh)*sp.wg+kx*g.dw)*sp.pixelBytes+64*b))
				sp.wSteps = append(sp.wSteps, int64(tap*sp.pixelBytes+64*b))
			}
		}
	}
	return sp
}

func (sp *sparsePool) gridLen() int { return sp.hg * sp.wg * sp.cp }

// packWeights lays w ([m][c][taps]) out as [m][taps][cp], zeros in the
// channels past c.
func (sp *sparsePool) packWeights(wt, w []float32, m, c int) {
	clear(wt)
	for co := range m {
		for ci := range c {
			src := w[(co*c+ci)*sp.taps:][:sp.taps]
			dst := wt[co*sp.taps*sp.cp+ci:]
			for t, v := range src {
				dst[t*sp.cp] = v
			}
		}
	}
}

// unpackWeights is packWeights' inverse, for the weight gradient.
func (sp *sparsePool) unpackWeights(w, wt []float32, m, c int) {
	for co := range m {
		for ci := range c {
			dst := w[(co*c+ci)*sp.taps:][:sp.taps]
			src := wt[co*sp.taps*sp.cp+ci:]
			for t := range dst {
				dst[t] = src[t*sp.cp]
			}
		}
	}
}

// toGrid writes an image (c planes of h×w) into the grid, channels
// innermost. It writes nothing else: the padding and the channels past c
// keep the zeros of a grid zeroed once, from one image to the next.
func (sp *sparsePool) toGrid(grid, img []float32, g geom2d) {
	hw := g.h * g.w
	for b := 0; b < g.c; b += 16 {
		mask := uint16(1<<min(16, g.c-b) - 1)
		kernel.GatherRows(grid[(g.ph*sp.wg+g.pw)*sp.cp+b:], img[b*hw:], g.h, g.w, sp.wg*sp.cp, g.w, sp.cp, 1, hw, mask, mask)
	}
}

// fromGrid reads the image (c planes of h×w) back out of the grid.
func (sp *sparsePool) fromGrid(img, grid []float32, g geom2d) {
	vecs := (g.w + 15) / 16
	last := uint16(1<<(g.w-16*(vecs-1)) - 1)
	for ci := range g.c {
		kernel.GatherRows(img[ci*g.h*g.w:], grid[(g.ph*sp.wg+g.pw)*sp.cp+ci:], g.h, vecs, g.w, sp.wg*sp.cp, 16, 16*sp.cp, sp.cp, 0xffff, last)
	}
}

// entries lists a sample's nonzero gradients at the Conv's output
// (kernel.PoolEntries) from its winners w: each nonzero's value, its
// pixel's byte offset in the grid and its channel's in the packed
// weights. It returns how many; gs, goff and woff hold m·poh·pow + 16.
func (sp *sparsePool) entries(gs []float32, goff, woff []int32, w winners) int {
	return kernel.PoolEntries(gs, goff, woff, w.dp, w.pv, w.arg, w.mg, w.poh, w.pow, w.rs, sp.wg, sp.pixelBytes, sp.rowBytes, w.relu)
}

// backward is convPool's backward on the sparse path (sparseFor): the
// Conv's gradients from its pooled output's, scattered nonzero by nonzero
// in layout sp.
func (sp *sparsePool) backward(s *State, dy *Tensor, sv convPoolSaved) []*Tensor {
	x, w, pooled := s.Saved(0), s.Saved(1), s.Saved(2)
	a, g, pg := sv.a, sv.a.g, sv.pg
	n, m := a.n, a.m
	hw, pohw := g.h*g.w, pg.oh*pg.ow
	needX, needW, needB := s.Needs(0), s.Needs(1), a.b != nil && s.Needs(2)
	rowLen := sp.taps * sp.cp
	grads := make([]*Tensor, 2, 3)
	var wt []float32
	if needX {
		wt = s.scratch(m * rowLen)
		defer s.Buffers.Put(wt)
		sp.packWeights(wt, w.Data, m, g.c)
		grads[0] = s.alloc(false, x.Shape...)
	}
	if needW {
		grads[1] = like(w)
	}
	if needB {
		grads = append(grads, NewFloat(m))
	}
	workers := min(n, runtime.GOMAXPROCS(0))
	// Per worker: the entries, a grid for dX and one for X, and the
	// worker's share of dW (packed) and dB.
	gss, grids, xgrids := make([][]float32, workers), make([][]float32, workers), make([][]float32, workers)
	dwts, dbs := make([][]float32, workers), make([][]float32, workers)
	goffs, woffs := make([][]int32, workers), make([][]int32, workers)
	for wk := range workers {
		gss[wk], goffs[wk], woffs[wk] = s.scratch(m*pohw+16), make([]int32, m*pohw+16), make([]int32, m*pohw+16)
		if needX {
			grids[wk] = s.scratch(sp.gridLen())
		}
		if needW {
			xgrids[wk] = s.Buffers.Get(sp.gridLen(), true) // zeroed once: see toGrid
			dwts[wk] = s.Buffers.Get(m*rowLen, true)
		}
		if needB {
			dbs[wk] = grads[2].Data
			if wk > 0 {
				dbs[wk] = make([]float32, m)
			}
		}
	}
	defer putAll(s.Buffers, gss, grids, xgrids, dwts)
	forSamples(n, workers, needW || needB, func(wk, i int) {
		at := i * m * pohw
		w := winners{dp: dy.Data[at:][:m*pohw], pv: pooled.Data[at:][:m*pohw], arg: sv.arg[at:][:m*pohw],
			relu: a.relu, mg: m, poh: pg.oh, pow: pg.ow, rs: sv.rows}
		if needB {
			for ch := range m {
				dbs[wk][ch] += maskedSum(w.dp[ch*pohw:][:pohw], w.pv[ch*pohw:][:pohw], a.relu)
			}
		}
		if !needX && !needW {
			return
		}
		k := sp.entries(gss[wk], goffs[wk], woffs[wk], w)
		gs, goff, woff := gss[wk][:k], goffs[wk][:k], woffs[wk][:k]
		if needW {
			sp.toGrid(xgrids[wk], x.Data[i*g.c*hw:][:g.c*hw], g)
			// Entries come channel by channel: a channel's row of dW
			// sums in registers (AxpyRuns).
			kernel.AxpyRuns(dwts[wk], xgrids[wk], gs, woff, goff, sp.wSteps, sp.gridSteps)
		}
		if needX {
			clear(grids[wk])
			kernel.AxpyTerms(grids[wk], wt, gs, goff, woff, sp.gridSteps, sp.wSteps)
			sp.fromGrid(grads[0].Data[i*g.c*hw:][:g.c*hw], grids[wk], g)
		}
	})
	if needW {
		addParts(dwts)
		sp.unpackWeights(grads[1].Data, dwts[0], m, g.c)
	}
	addParts(dbs)
	return grads
}
