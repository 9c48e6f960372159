package ops

// The space-to-depth strategy, for strided convolutions of an image's few
// channels on the vector kernels: the stem of MobileNet and EfficientNet
// (3×3, stride 2, 3 channels at 224×224), which the direct kernels (unit
// stride) do not take and im2col runs through a column matrix nine times
// the image's size.
//
// At stride s, input pixel (s·r + p, s·c + q) of the padded image is pixel
// (r, c) of phase plane (p, q). A tap (i, j) of the window reads plane
// (i mod s, j mod s) at an offset of (i div s, j div s) plane pixels, so
// the convolution is a unit-stride one over c·s² planes, each term a tap
// of the window at its offset in its plane: a direct convolution
// (directconv.go, planDirectTerms) with the window's own weights and
// weight gradient. Its input's gradient is the direct input gradient of
// the unit-stride window over the planes, ⌈kh/s⌉×⌈kw/s⌉ with zeros for
// the taps it has and the window lacks, put back on the image's pixels
// (only where an infinite or NaN dY meets such a zero does it differ from
// col2im's, which multiplies no zero weight).
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

// spacePlan maps a strided window g to the unit-stride window over its
// phase planes.
type spacePlan struct {
	g, u geom2d // the window and the unit-stride one
}

func newSpacePlan(g geom2d) spacePlan {
	kh, kw := (g.kh+g.sh-1)/g.sh, (g.kw+g.sw-1)/g.sw
	return spacePlan{g: g, u: geom2d{c: g.c * g.sh * g.sw, h: g.oh + kh - 1, w: g.ow + kw - 1,
		kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1, oh: g.oh, ow: g.ow}}
}

// planes writes the phase planes of one sample's image img (g.c×h×w) to
// x (u.c×u.h×u.w): plane (ch·sh + p)·sw + q, pixel (r, c), is image pixel
// (sh·r + p − ph, sw·c + q − pw) of channel ch, zero in the padding.
func (sp spacePlan) planes(x, img []float32) {
	g, u := sp.g, sp.u
	for ch := range g.c {
		src := img[ch*g.h*g.w:][:g.h*g.w]
		for p := range g.sh {
			for q := range g.sw {
				plane := x[((ch*g.sh+p)*g.sw+q)*u.h*u.w:][:u.h*u.w]
				for r := range u.h {
					row := plane[r*u.w:][:u.w]
					iy := g.sh*r + p - g.ph
					if iy < 0 || iy >= g.h {
						clear(row)
						continue
					}
					lo, hi := sp.columns(q)
					clear(row[:lo])
					clear(row[hi:])
					in := src[iy*g.w:][:g.w]
					for c, ix := lo, g.sw*lo+q-g.pw; c < hi; c, ix = c+1, ix+g.sw {
						row[c] = in[ix]
					}
				}
			}
		}
	}
}

// tap returns, for tap (i, j) of input channel ch, the index of its term
// among the unit-stride window's (plane, row, column).
func (sp spacePlan) tap(ch, i, j int) int {
	g, u := sp.g, sp.u
	plane := (ch*g.sh+i%g.sh)*g.sw + j%g.sw
	return (plane*u.kh+i/g.sh)*u.kw + j/g.sw
}

// weights writes w (m × g.c·kh·kw) as the unit-stride window's weights
// to wu (m × u.c·u.kh·u.kw), zero for the terms no tap maps to.
func (sp spacePlan) weights(wu, w []float32, m int) {
	g, k, ku := sp.g, sp.g.colRows(), sp.u.colRows()
	clear(wu[:m*ku])
	for o := range m {
		for ch := range g.c {
			for i := range g.kh {
				for j := range g.kw {
					wu[o*ku+sp.tap(ch, i, j)] = w[o*k+(ch*g.kh+i)*g.kw+j]
				}
			}
		}
	}
}

// offs returns each tap's byte offset in the phase planes, in the
// window's order (channel, row, column): the terms of the direct plan.
func (sp spacePlan) offs() []int64 {
	g, u := sp.g, sp.u
	offs := make([]int64, 0, g.colRows()+2)
	for ch := range g.c {
		for i := range g.kh {
			for j := range g.kw {
				plane := (ch*g.sh+i%g.sh)*g.sw + j%g.sw
				offs = append(offs, int64(4*((plane*u.h+i/g.sh)*u.w+j/g.sw)))
			}
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
	// The planes are written where the kernels read them, plan.xlen
	// floats with what the tiles read past them, the wide buffer after.
	planes := sc.p.u.c * sc.p.u.h * sc.p.u.w
	directSamples(s, plan, a, plan.xlen, func(i, _ int, img, scratch []float32) {
		x := scratch[:plan.xlen]
		sc.p.planes(x, img)
		clear(x[planes:])
		out := y.Data[i*a.m*ohw:][:a.m*ohw]
		res, rows, _ := plan.kernels(out, x, scratch[plan.xlen:], 0)
		plan.compact(out, res, rows)
		a.finishSample(i)
	})
}

// streams: every sample's output is finished by the worker that wrote it.
func (spaceConv) streams(a convArgs) bool { return samplesStream(a) }

// begin, for the weights' gradient: the direct gradient of the window's
// taps over each sample's phase planes, added into the worker's dW.
func (sc spaceConv) begin(s *State, a convArgs, workers int, _ gemmFunc) convStep {
	u, ohw := sc.p.u, a.g.oh*a.g.ow
	st := spaceWeights{p: sc.p, plan: sc.p.plan(s, nil, nil, a.m, false)}
	for range workers {
		st.x = append(st.x, s.scratch(u.c*u.h*u.w))
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
	st.direct = directInputGrad{}.begin(s, ua, workers, mul).(directInput)
	for range workers {
		st.dx = append(st.dx, s.scratch(u.c*u.h*u.w))
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

// pixels is planes the other way: it writes each image pixel of dx
// (g.c×h×w) from its place in the phase planes x, and zero where no
// plane holds it (rows and columns past the windows' reach).
func (sp spacePlan) pixels(dx, x []float32) {
	g, u := sp.g, sp.u
	clear(dx[:g.c*g.h*g.w])
	for ch := range g.c {
		dst := dx[ch*g.h*g.w:][:g.h*g.w]
		for p := range g.sh {
			for q := range g.sw {
				plane := x[((ch*g.sh+p)*g.sw+q)*u.h*u.w:][:u.h*u.w]
				lo, hi := sp.columns(q)
				for r := range u.h {
					iy := g.sh*r + p - g.ph
					if iy < 0 || iy >= g.h {
						continue
					}
					row, out := plane[r*u.w:][:u.w], dst[iy*g.w:][:g.w]
					for c, ix := lo, g.sw*lo+q-g.pw; c < hi; c, ix = c+1, ix+g.sw {
						out[ix] = row[c]
					}
				}
			}
		}
	}
}

// columns returns the plane columns [lo, hi) of column phase q that lie
// in the image.
func (sp spacePlan) columns(q int) (lo, hi int) {
	g, u := sp.g, sp.u
	x0 := q - g.pw
	lo = min(max(0, (-x0+g.sw-1)/g.sw), u.w)
	return lo, max(lo, min(u.w, (g.w-x0+g.sw-1)/g.sw))
}
