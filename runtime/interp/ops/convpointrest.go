package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// The direct kernel's 1×1 layers on small planes run their last, partial
// segment apart. A 7×7 plane is 49 pixels: three segments of 16 and one
// of a single pixel, which the kernel's tiles compute as a whole segment
// (77% of the lanes used), and with the tile of 8 channels by one segment
// that a last group of one segment takes, eight weight broadcasts for
// each eight multiply-adds. Here the direct plan stops at the last whole
// segment (48 pixels; 192 of a 14×14 plane's 196), and the pixels past it,
// of every sample at once, are gathered into one image of C channels by
// N·rest pixels, whose 1×1 convolution the same plan's tiles and packed
// weights run (its sums the plane's, bit for bit), and scattered back. The forward
// pass writes them before the samples' tiles run, so a streamed epilogue
// (convepilogue.go) sees each sample whole; dX does the same over dY.

// pointRest is the pixels [start, start+n) of each plane that run apart.
type pointRest struct{ start, n int }

// pointwiseRest returns the pixels past the last whole segment of window
// g's planes, for a 1×1 window with one group over planes of 16 to 14×14
// pixels whose last segment is partial and shorter than a row (so that
// planDirectPart can leave it out; see restPlan), and false for others.
func pointwiseRest(g geom2d, group int) (pointRest, bool) {
	ohw := g.oh * g.ow
	rest := ohw % 16
	if group != 1 || g.kh != 1 || g.kw != 1 || g.sh != 1 || g.sw != 1 || g.ph != 0 || g.pw != 0 ||
		g.h != g.oh || g.w != g.ow || ohw < 16 || ohw > 14*14 || rest == 0 || rest >= g.ow {
		return pointRest{}, false
	}
	return pointRest{start: ohw - rest, n: rest}, true
}

// restPlan returns the direct plan of window g (m channels, weights w and
// bias b) that computes each plane's pixels before r.start, and nil where
// the plan would not: its last row stops r.n columns short, and its
// segments must run on across rows (a wide plan, straightened).
func restPlan(s *State, r pointRest, g geom2d, w, b []float32, m int, relu bool) *directPlan {
	p := planDirectPart(s, g, g.oh, g.ow-r.n, w, b, m, 1, relu)
	if !p.wide {
		p.release(s)
		return nil
	}
	p.straighten()
	if p.wide {
		p.release(s)
		return nil
	}
	return p
}

// planWithRest returns the direct plan of window g (group groups of m
// channels, weights w, bias b) and, where rest is allowed and g's planes
// end in a partial segment, the pixels that plan leaves to pointRest.run
// (ok true); otherwise the plan of every pixel.
func planWithRest(s *State, g geom2d, w, b []float32, m, group int, relu, rest bool) (p *directPlan, r pointRest, ok bool) {
	if r, ok := pointwiseRest(g, group); ok && rest {
		if p := restPlan(s, r, g, w, b, m, relu); p != nil {
			return p, r, true
		}
	}
	return planDirect(s, g, w, b, m, group, relu), pointRest{}, false
}

// run writes, for the n samples, out's rest pixels (p.m channels a
// sample) from in's (p.k channels a sample), on p, the 1×1 plan of the
// pixels before them (restPlan): its tiles, packed weights, bias and Relu
// run over the rest pixels gathered as one image of p.k channels by
// n·rest pixels, so that each output is the sum the whole plane's tiles
// would have made, in their order, bit for bit. through, where not nil,
// maps each gathered value by its index in in (dY through a fused
// Relu's or Clip's mask, or a gate's slope: convArgs.throughAt).
func (r pointRest) run(s *State, p *directPlan, out, in []float32, n, plane int, through func(i int, v float32) float32) {
	cols, mi, mo := n*r.n, p.k, p.m
	if cols == 0 {
		return
	}
	// The plan over the gathered image: p's own but for the image's
	// geometry, its terms (a channel every cols floats) and segments.
	q := *p
	q.g = geom2d{c: mi, h: 1, w: cols, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: 1, ow: cols}
	q.hp, q.wp = 1, cols
	q.offs = make([]int64, mi)
	for c := range mi {
		q.offs[c] = int64(4 * c * cols)
	}
	q.segs = nil
	for x := 0; x < cols; x += kernel.Lanes {
		q.segs = append(q.segs, segment{X: int64(4 * x), DY: int64(4 * x), Mask: 1<<min(kernel.Lanes, cols-x) - 1})
	}
	xr, yr := s.scratch(mi*cols), s.scratch(mo*cols)
	defer s.Buffers.Put(xr)
	defer s.Buffers.Put(yr)
	for i := range n {
		for c := range mi {
			at := (i*mi+c)*plane + r.start
			dst := xr[c*cols+i*r.n:][:r.n]
			copy(dst, in[at:at+r.n])
			if through != nil {
				for j := range dst {
					dst[j] = through(at+j, dst[j])
				}
			}
		}
	}
	q.kernels(yr, xr, nil, 0)
	for o := range mo {
		for i := range n {
			copy(out[(i*mo+o)*plane+r.start:][:r.n], yr[o*cols+i*r.n:][:r.n])
		}
	}
}
