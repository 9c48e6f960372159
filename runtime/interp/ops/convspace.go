package ops

// The space-to-depth strategy, for strided convolutions of an image's few
// channels on the vector kernels: the stem of MobileNet and EfficientNet
// (3×3, stride 2, 3 channels at 224×224), which the direct kernels (unit
// stride) do not take and im2col runs through a column matrix nine times
// the image's size.
//
// At stride s a tap reads every s-th pixel of every s-th row: split into
// s×s phase planes, as the phases strategy splits a depthwise channel
// (convphases.go, phasePlan), each tap reads one plane at unit stride at
// its own shift. So the convolution is a unit-stride one over c·s²
// planes, each term a tap of the window at its shift in its channel's
// plane: a direct convolution (directconv.go, planDirectTerms) with the
// window's own weights and weight gradient. Its input's gradient is the
// direct input gradient of the unit-stride window over the planes, with
// zeros for the places it has and no tap reads, scattered back to the
// image's pixels (only where an infinite or NaN dY meets such a zero does
// it differ from col2im's, which multiplies no zero weight).
func init() {
	registerConvStrategy(convStrategy{name: "space to depth", rank: 95, vector: true,
		forward:    spaceFor(func(p spacePlan) convForward { return spaceConv{p} }),
		inputGrad:  spaceFor(func(p spacePlan) convGradient { return spaceInputGrad{p} }),
		weightGrad: spaceFor(func(p spacePlan) convGradient { return spaceConv{p} }),
	})
}

// maxSpaceChannels bounds the input channels the strategy takes: images
// (gray, RGB, RGBA). Deeper strided layers have channels enough for
// im2col's product to run well, and s² times as many planes here.
const maxSpaceChannels = 4

// spaceFor returns part, on the window's plan, for strided windows of at
// most maxSpaceChannels channels in one group, undilated, on the vector
// kernels, whose phase planes are no larger than im2col's columns, and
// nil for the others.
func spaceFor[T any](part func(spacePlan) T) func(convKey) T {
	return func(k convKey) T {
		var none T
		g := k.g
		if !k.kernels || k.group != 1 || k.m < 1 || g.colRows() < 1 || g.c > maxSpaceChannels ||
			g.sh*g.sw < 2 || g.sh*g.sw > maxPhases || g.dh != 1 || g.dw != 1 || g.oh <= 0 || g.ow <= 0 {
			return none
		}
		sp := newSpacePlan(g)
		// The planes hold no more than im2col's columns would: a stride
		// past the kernel leaves planes no tap reads.
		if sp.u.c*sp.u.h*sp.u.w > g.colRows()*g.oh*g.ow {
			return none
		}
		return part(sp)
	}
}

// spacePlan maps a strided window g to the unit-stride window u over its
// channels' phase planes: channel ch's planes are ph's layout of it, block
// floats from channel ch·block on.
type spacePlan struct {
	g, u  geom2d // the window and the unit-stride one
	ph    *phasePlan
	block int // floats of one channel's planes
}

func newSpacePlan(g geom2d) spacePlan {
	ph := newPhasePlan(g)
	return spacePlan{g: g, ph: ph, block: ph.phases * ph.plane,
		u: geom2d{c: g.c * ph.phases, h: ph.rows, w: ph.pitch, kh: ph.rows - g.oh + 1, kw: ph.pitch - g.ow + 1,
			sh: 1, sw: 1, dh: 1, dw: 1, oh: g.oh, ow: g.ow}}
}

// xlen is the floats planes writes: every channel's planes, and the
// zeros the last one's tiles read past them.
func (sp spacePlan) xlen() int { return (sp.g.c-1)*sp.block + sp.ph.xlen }

// planes writes the phase planes of one sample's image img (g.c×h×w) to x
// (xlen floats). Each channel's image call also zeroes what lies past its
// planes, the next channel's start, which that channel's call then writes.
func (sp spacePlan) planes(x, img []float32) {
	hw := sp.g.h * sp.g.w
	for ch := range sp.g.c {
		sp.ph.image(x[ch*sp.block:], img[ch*hw:][:hw])
	}
}

// pixels is planes the other way: it writes each image pixel of dx
// (g.c×h×w) from its place in the phase planes x, and zero where no tap
// reads it.
func (sp spacePlan) pixels(dx, x []float32) {
	hw := sp.g.h * sp.g.w
	for ch := range sp.g.c {
		sp.ph.scatter(dx[ch*hw:][:hw], x[ch*sp.block:])
	}
}

// weights writes w (m × g.c·kh·kw) as the unit-stride window's weights
// to wu (m × u.c·u.kh·u.kw), zero for the places no tap reads.
func (sp spacePlan) weights(wu, w []float32, m int) {
	khw, k, ku := sp.g.kh*sp.g.kw, sp.g.colRows(), sp.u.colRows()
	clear(wu[:m*ku])
	for ch := range sp.g.c {
		for t := range khw {
			plane, shift := ch*sp.ph.phases+sp.ph.tapPhase[t], sp.ph.shift[t]
			term := (plane*sp.u.kh+shift/sp.u.w)*sp.u.kw + shift%sp.u.w
			for o := range m {
				wu[o*ku+term] = w[o*k+ch*khw+t]
			}
		}
	}
}

// offs returns each tap's byte offset in the phase planes, in the
// window's order (channel, row, column): the terms of the direct plan.
func (sp spacePlan) offs() []int64 {
	offs := make([]int64, 0, sp.g.colRows()+2)
	for ch := range sp.g.c {
		for _, o := range sp.ph.offs {
			offs = append(offs, int64(4*ch*sp.block)+o)
		}
	}
	return offs
}

// plan returns the direct plan of the window's taps over the phase
// planes, with w (m × g.c·kh·kw) packed, or for the weight gradient alone
// (w nil).
func (sp spacePlan) plan(s *State, w, b []float32, m int, relu bool) *directPlan {
	return planDirectTerms(s, sp.u, sp.offs(), sp.u.oh, sp.u.ow, w, b, m, 1, relu)
}

type spaceConv struct{ p spacePlan }

func (sc spaceConv) forward(s *State, a convArgs, y *Tensor) {
	ohw := a.g.oh * a.g.ow
	plan := sc.p.plan(s, a.w.Data, a.bias(), a.m, a.relu)
	plan.straighten()
	defer plan.release(s)
	// The planes are written where the kernels read them, with what the
	// tiles read past them; the wide buffer follows.
	xlen := max(plan.xlen, sc.p.xlen())
	directSamples(s, plan, a, xlen, func(i, _ int, img, scratch []float32) {
		x := scratch[:xlen]
		sc.p.planes(x, img)
		clear(x[sc.p.xlen():])
		out := y.Data[i*a.m*ohw:][:a.m*ohw]
		res, rows, _ := plan.kernels(out, x, scratch[xlen:], 0)
		plan.compact(out, res, rows)
		a.finishSample(i)
	})
}

// streams: every sample's output is finished by the worker that wrote it.
func (spaceConv) streams(a convArgs) bool { return samplesStream(a) }

// begin, for the weights' gradient: the direct gradient of the window's
// taps over each sample's phase planes, added into the worker's dW.
func (sc spaceConv) begin(s *State, a convArgs, workers int, _ gemmFunc) convStep {
	ohw := a.g.oh * a.g.ow
	st := spaceWeights{p: sc.p, plan: sc.p.plan(s, nil, nil, a.m, false)}
	for range workers {
		st.x = append(st.x, s.scratch(sc.p.xlen()))
		st.pad = append(st.pad, s.scratch(st.plan.scratchLen()))
		st.rows = append(st.rows, s.scratch(8*ohw))
		st.sums = append(st.sums, s.scratch(st.plan.gradSums()))
	}
	return st
}

type spaceWeights struct {
	p                  spacePlan
	plan               *directPlan
	x, pad, rows, sums [][]float32
}

func (st spaceWeights) group(wk, _ int, dw, dy, img []float32) {
	st.p.planes(st.x[wk], img)
	st.plan.gradW(dw, dy, st.x[wk], st.pad[wk], st.rows[wk], st.sums[wk])
}

func (st spaceWeights) release(s *State) { putAll(s.Buffers, st.x, st.pad, st.rows, st.sums) }

// spaceInputGrad computes dX as the direct input gradient of the
// unit-stride window, to the phase planes, then puts each plane pixel
// back on its image pixel.
type spaceInputGrad struct{ p spacePlan }

func (sg spaceInputGrad) begin(s *State, a convArgs, workers int, mul gemmFunc) convStep {
	u := sg.p.u
	st := spaceInput{p: sg.p, wu: s.scratch(a.m * u.colRows())}
	sg.p.weights(st.wu, a.w.Data, a.m)
	ua := a
	ua.w, ua.g = &Tensor{Shape: []int{a.m, u.c, u.kh, u.kw}, Data: st.wu}, u
	// The rest pixels of a 1×1 plan run apart (convpointrest.go) in a
	// batch part that this step, a sample at a time, would not run.
	st.direct, _, _ = beginDirectInput(s, ua, workers, false)
	for range workers {
		st.dx = append(st.dx, s.scratch(sg.p.xlen()))
	}
	return st
}

type spaceInput struct {
	p      spacePlan
	wu     []float32
	direct directInput
	dx     [][]float32
}

func (st spaceInput) group(wk, gr int, dx, dy, _ []float32) {
	st.direct.group(wk, gr, st.dx[wk], dy, nil)
	st.p.pixels(dx, st.dx[wk])
}

func (st spaceInput) release(s *State) {
	st.direct.release(s)
	s.Buffers.Put(st.wu)
	putAll(s.Buffers, st.dx)
}
