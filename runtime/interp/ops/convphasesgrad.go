package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// The phases strategy's gradients (convphases.go): dX through each phase
// plane's tile over dY, dW as one dot product per tap.

// layDY writes dy (oh×ow) to d (dlen floats) at pitch P after margin
// zeros, zeros in the columns past ow and after the last row.
func (p *phasePlan) layDY(d, dy []float32) {
	g := p.g
	clear(d[:p.margin])
	for oy := range g.oh {
		row := d[p.margin+oy*p.pitch:][:p.pitch]
		copy(row, dy[oy*g.ow:][:g.ow])
		clear(row[g.ow:])
	}
	clear(d[p.margin+g.oh*p.pitch : p.dlen])
}

// scatter writes the phase planes' gradients dph back to dx (h×w): each
// pixel of the image the value of its place in its plane, zero where
// no output reads it, writing each pixel once. Rows from yc on and
// columns from xc on lie past every plane (r0 and c0 are not positive,
// so none lies before them).
func (p *phasePlan) scatter(dx, dph []float32) {
	g := p.g
	yc := max(0, min(g.h, g.sh*(p.rows+p.r0)))
	xc := max(0, min(g.w, g.sw*(p.pitch+p.c0)))
	clear(dx[yc*g.w:])
	for iy := range yc {
		dst := dx[iy*g.w:][:g.w]
		clear(dst[xc:])
		rp, r := iy%g.sh, iy/g.sh-p.r0
		if g.sw == 2 {
			p.joinRow(dst, dph[rp*2*p.plane+r*p.pitch:][:p.pitch], dph[(rp*2+1)*p.plane+r*p.pitch:][:p.pitch])
			continue
		}
		for cp := range g.sw {
			ph := rp*g.sw + cp
			lo, hi := p.columns(cp)
			if lo >= hi {
				continue
			}
			src := dph[ph*p.plane+r*p.pitch:][lo:hi]
			ix := g.sw*(lo+p.c0) + cp
			if g.sw == 1 {
				copy(dst[ix:], src)
				continue
			}
			for _, v := range src {
				dst[ix] = v
				ix += g.sw
			}
		}
	}
}

// joinRow writes the image row dst from its even and odd column phases'
// plane rows at stride 2, on the vector kernel (splitRow's inverse for
// the columns in the image).
func (p *phasePlan) joinRow(dst, even, odd []float32) {
	lo, hi0 := p.columns(0)
	_, hi1 := p.columns(1)
	n := hi1 - lo
	kernel.Interleave(dst[:2*n], even[lo:hi1], odd[lo:hi1])
	if hi0 > hi1 {
		dst[2*n] = even[hi1]
	}
}

// phasesInput computes dX phase by phase.
type phasesInput struct{ p *phasePlan }

func (c phasesInput) begin(s *State, a convArgs, workers int, _ gemmFunc) convStep {
	p := c.p
	st := phasesInputStep{p: p, w: a.w.Data, dys: make([][]float32, workers), dphs: make([][]float32, workers),
		wts: make([][]float32, workers), tls: make([]kernel.Tile, workers)}
	for wk := range workers {
		st.dys[wk] = s.scratch(p.dlen)
		st.dphs[wk] = s.scratch((p.phases-1)*p.plane + p.span)
		st.wts[wk] = make([]float32, p.g.kh*p.g.kw)
	}
	return st
}

type phasesInputStep struct {
	p              *phasePlan
	w              []float32
	dys, dphs, wts [][]float32   // per worker: dY at pitch P, the planes' gradients, a phase's weights
	tls            []kernel.Tile // per worker: the kernel's argument block
}

func (st phasesInputStep) release(s *State) { putAll(s.Buffers, st.dys, st.dphs) }

// group writes channel gr's dX (h×w) of one sample from its dY (oh×ow).
func (st phasesInputStep) group(wk, gr int, dx, dy, _ []float32) {
	p, d, dph, wts := st.p, st.dys[wk], st.dphs[wk], st.wts[wk]
	khw := p.g.kh * p.g.kw
	w := st.w[gr*khw:][:khw]
	p.layDY(d, dy)
	var zero float32
	// In order: a plane's last tile runs into the next plane, which is
	// written after it.
	for ph, list := range p.back {
		if len(list) == 0 {
			clear(dph[ph*p.plane:][:p.plane])
			continue
		}
		for j, t := range list {
			wts[j] = w[t]
		}
		tiles(&st.tls[wk], dph[ph*p.plane:], d, wts[:len(list)], p.backOffs[ph], &zero, false, p.span)
	}
	p.scatter(dx, dph)
}

// phasesWeights computes dW one tap at a time.
type phasesWeights struct{ p *phasePlan }

func (c phasesWeights) begin(s *State, _ convArgs, workers int, _ gemmFunc) convStep {
	st := phasesWeightsStep{p: c.p, xs: make([][]float32, workers), dys: make([][]float32, workers)}
	for wk := range workers {
		st.xs[wk], st.dys[wk] = s.scratch(c.p.xlen), s.scratch(c.p.dlen)
	}
	return st
}

type phasesWeightsStep struct {
	p       *phasePlan
	xs, dys [][]float32 // per worker: the phase image, dY at pitch P
}

func (st phasesWeightsStep) release(s *State) { putAll(s.Buffers, st.xs, st.dys) }

// group adds one channel of one sample's weight gradient to dw (kh·kw):
// each tap's is dY dotted with the plane it reads, shifted as it reads it
// (dY's zeros leave out the columns past ow).
func (st phasesWeightsStep) group(wk, _ int, dw, dy, x []float32) {
	p, xs, d := st.p, st.xs[wk], st.dys[wk]
	p.image(xs, x)
	p.layDY(d, dy)
	dyp := d[p.margin:][:p.g.oh*p.pitch]
	for t, sh := range p.shift {
		dw[t] += kernel.Dot(dyp, xs[p.tapPhase[t]*p.plane+sh:])
	}
}
