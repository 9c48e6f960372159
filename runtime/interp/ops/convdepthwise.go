package ops

// The depthwise strategy, for the convolutions MobileNet and EfficientNet
// are built on: one group per channel (group = input channels = output
// channels), so each output plane is its own input plane convolved with
// one kh×kw kernel. im2col would unfold each plane into kh·kw rows to
// multiply them by a single row of weights; here each kernel row is one
// pass along the rows of the plane, in pure Go, over (sample, channel)
// planes forward and, backward, over each sample's channels on the
// backward pass's workers. It ranks after the direct kernels, whose
// 16-lane vectors stay faster at unit stride on the CPUs that have them.
func init() {
	registerConvStrategy(convStrategy{name: "depthwise", rank: 150,
		forward:    depthwiseFor(func(k convKey) convForward { return depthwiseConv{} }),
		inputGrad:  depthwiseFor(func(k convKey) convGradient { return depthwiseInput{} }),
		weightGrad: depthwiseFor(func(k convKey) convGradient { return depthwiseConv{} }),
	})
}

// depthwiseFor returns part for the windows of depthwise convolutions,
// and nil for the others.
func depthwiseFor[T any](part func(convKey) T) func(convKey) T {
	return func(k convKey) T {
		var none T
		if k.group < 2 || k.g.c != 1 || k.mg() != 1 {
			return none
		}
		return part(k)
	}
}

type depthwiseConv struct{}

func (depthwiseConv) forward(s *State, a convArgs, y *Tensor) {
	g, bias := a.g, a.bias()
	hw, ohw := g.h*g.w, g.oh*g.ow
	forChunks(a.n*a.m, ohw*g.kh*g.kw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch := p % a.m
			out := y.Data[p*ohw:][:ohw]
			var b float32
			if bias != nil {
				b = bias[ch]
			}
			for i := range out {
				out[i] = b
			}
			depthwisePlane(out, a.x.Data[p*hw:][:hw], a.w.Data[ch*g.kh*g.kw:][:g.kh*g.kw], g)
			if a.relu {
				for i, v := range out {
					out[i] = max(v, 0)
				}
			}
		}
	})
}

// depthwisePlane adds to out (oh×ow) the plane x (h×w) convolved with the
// kernel w (kh×kw), one kernel row at a time along each output row,
// leaving out the rows that read padding.
func depthwisePlane(out, x, w []float32, g geom2d) {
	for oy := range g.oh {
		row := out[oy*g.ow:][:g.ow]
		for ki := range g.kh {
			iy := oy*g.sh - g.ph + ki*g.dh
			if iy >= 0 && iy < g.h {
				depthwiseRow(row, x[iy*g.w:][:g.w], w[ki*g.kw:][:g.kw], g)
			}
		}
	}
}

// depthwiseRow adds to out (one output row) the kernel row wr applied to
// the input row src. Where every tap reads the image (the interior), a
// 3-tap row, the common case, takes all three in one pass; the columns
// whose taps reach into the padding take the taps one by one.
func depthwiseRow(out, src, wr []float32, g geom2d) {
	ix0 := -g.pw
	lo := 0
	if ix0 < 0 {
		lo = min((-ix0+g.sw-1)/g.sw, g.ow)
	}
	hi := 0
	if last := ix0 + (g.kw-1)*g.dw; last <= g.w-1 {
		hi = min(g.ow, (g.w-1-last)/g.sw+1)
	}
	hi = max(hi, lo)
	if g.kw == 3 && g.dw == 1 && lo < hi {
		w0, w1, w2 := wr[0], wr[1], wr[2]
		in := src[ix0+lo*g.sw:]
		o := out[lo:hi]
		if g.sw == 1 {
			in = in[:len(o)+2]
			for j := range o {
				o[j] += w0*in[j] + w1*in[j+1] + w2*in[j+2]
			}
		} else {
			in = in[:(len(o)-1)*g.sw+3]
			for j := range o {
				q := j * g.sw
				o[j] += w0*in[q] + w1*in[q+1] + w2*in[q+2]
			}
		}
	} else {
		depthwiseTaps(out, src, wr, g, lo, hi)
	}
	depthwiseTaps(out, src, wr, g, 0, lo)
	depthwiseTaps(out, src, wr, g, hi, g.ow)
}

// depthwiseTaps adds the taps of wr to the output columns [c0, c1) of
// out, one tap at a time, leaving out what reads the padding.
func depthwiseTaps(out, src, wr []float32, g geom2d, c0, c1 int) {
	for kj, wv := range wr {
		ix := kj*g.dw - g.pw
		for ox := c0; ox < c1; ox++ {
			if p := ix + ox*g.sw; p >= 0 && p < g.w {
				out[ox] += wv * src[p]
			}
		}
	}
}

// begin, for the weights' gradient: each tap's dW is the sum over the
// output of dY times the input pixel the tap read.
func (depthwiseConv) begin(_ *State, a convArgs, _ int, _ gemmFunc) convStep {
	return depthwiseWeights{a.g}
}

type depthwiseWeights struct{ g geom2d }

func (depthwiseWeights) release(*State) {}

// group adds one channel of one sample's weight gradient to dw (kh·kw).
func (st depthwiseWeights) group(_, _ int, dw, dy, x []float32) {
	g := st.g
	for ki := range g.kh {
		for kj := range g.kw {
			ix := kj*g.dw - g.pw
			lo, hi := g.inside(ix)
			if lo >= hi {
				continue
			}
			var sum float32
			for oy := range g.oh {
				iy := oy*g.sh - g.ph + ki*g.dh
				if iy >= 0 && iy < g.h {
					sum += stridedDot(dy[oy*g.ow:][lo:hi], x[iy*g.w+ix+lo*g.sw:], g.sw)
				}
			}
			dw[ki*g.kw+kj] += sum
		}
	}
}

// stridedDot returns the sum of a[j]·b[j·stride], in four partial sums so
// that the adds do not wait on each other.
func stridedDot(a, b []float32, stride int) float32 {
	var s0, s1, s2, s3 float32
	j := 0
	if stride == 1 {
		b = b[:len(a)]
		for ; j+4 <= len(a); j += 4 {
			s0 += a[j] * b[j]
			s1 += a[j+1] * b[j+1]
			s2 += a[j+2] * b[j+2]
			s3 += a[j+3] * b[j+3]
		}
	}
	for ; j < len(a); j++ {
		s0 += a[j] * b[j*stride]
	}
	return (s0 + s1) + (s2 + s3)
}

// depthwiseInput computes dX: each tap sends dY, times its weight, back to
// the input pixels it read.
type depthwiseInput struct{}

func (depthwiseInput) begin(s *State, a convArgs, _ int, _ gemmFunc) convStep {
	st := depthwiseInputStep{g: a.g, w: a.w.Data}
	if a.g.sh == 1 && a.g.sw == 1 {
		// dX is the forward pass over dY with each kernel turned 180°.
		st.gf = a.g.flipped(1)
		st.wf = s.scratch(a.w.Len())
		flipWeights(a.kernels, st.wf, a.w.Data, a.group, 1, a.g)
	}
	return st
}

type depthwiseInputStep struct {
	g, gf geom2d
	w, wf []float32 // the weights, and turned 180° at unit stride
}

func (st depthwiseInputStep) release(s *State) {
	if st.wf != nil {
		s.Buffers.Put(st.wf)
	}
}

// group writes channel gr's dX (h×w) of one sample from its dY (oh×ow).
func (st depthwiseInputStep) group(_, gr int, dx, dy, _ []float32) {
	g, khw := st.g, st.g.kh*st.g.kw
	clear(dx)
	if st.wf != nil {
		depthwisePlane(dx, dy, st.wf[gr*khw:][:khw], st.gf)
		return
	}
	w := st.w[gr*khw:][:khw]
	for ki := range g.kh {
		for kj := range g.kw {
			wv := w[ki*g.kw+kj]
			ix := kj*g.dw - g.pw
			lo, hi := g.inside(ix)
			if lo >= hi {
				continue
			}
			for oy := range g.oh {
				iy := oy*g.sh - g.ph + ki*g.dh
				if iy < 0 || iy >= g.h {
					continue
				}
				row := dy[oy*g.ow:][lo:hi]
				dst := dx[iy*g.w+ix+lo*g.sw:]
				dst = dst[:(len(row)-1)*g.sw+1]
				for j, v := range row {
					dst[j*g.sw] += wv * v
				}
			}
		}
	}
}
