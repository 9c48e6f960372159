package ops

import (
	"runtime"
	"unsafe"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// The phases strategy, for depthwise convolutions (one group per channel)
// of any stride on the vector kernels: the windows that the rows strategy
// (convrows.go, which takes MobileNet's and EfficientNet's layers) and
// the pixels strategy leave, strides other than 1 and 2 on both axes,
// dilations, kernels past 15 taps a side, pads past 4096.
//
// At stride s a tap reads every s-th pixel of every s-th row. Split into
// s×s phase planes (the pixels of one row and one column remainder: four
// quarter-size planes at stride 2), zero-padded to a common pitch P, each
// tap reads one plane at unit stride: output pixel i = oy·P + ox reads its
// plane at i plus the tap's shift. So a channel's output, P pixels a
// row, is one 1×12 tile of the kernels (kernel.Run1) per 192 pixels, the
// taps its terms, and then its first ow columns are kept. Backward, each
// phase plane's gradient is the same tile over dY (laid out at pitch P,
// zeros elsewhere) with the phase's taps shifted back, and each tap's
// weight gradient the dot product of that dY with its shifted plane.
func init() {
	registerConvStrategy(convStrategy{name: "phases", rank: 90, vector: true,
		forward:    phasesFor(func(p *phasePlan) convForward { return phasesConv{p} }),
		inputGrad:  phasesFor(func(p *phasePlan) convGradient { return phasesInput{p} }),
		weightGrad: phasesFor(func(p *phasePlan) convGradient { return phasesWeights{p} }),
	})
}

// phasesFor returns part, on the window's plan, for depthwise windows on
// the vector kernels with a kernel, and nil for the others (an empty
// kernel, a hostile file's, has no taps to lay out).
func phasesFor[T any](part func(*phasePlan) T) func(convKey) T {
	return func(k convKey) T {
		var none T
		if !k.kernels || k.group < 2 || k.g.c != 1 || k.mg() != 1 || k.g.oh <= 0 || k.g.ow <= 0 ||
			k.g.sh*k.g.sw > maxPhases || k.g.kh < 1 || k.g.kw < 1 {
			return none
		}
		return part(newPhasePlan(k.g))
	}
}

// maxPhases bounds the phases (sh·sw) of a window the strategy takes: the
// plan holds a plane per phase, and a hostile file's strides of thousands
// would make that billions; the depthwise strategy takes such windows.
const maxPhases = 16

// run1 is the pixels one Run1 tile computes.
const run1 = 12 * kernel.Lanes

// phasePlan is the phase layout of one depthwise window.
type phasePlan struct {
	g            geom2d
	r0, c0       int // the phase row and column of each plane's first row and column (≤ 0)
	rows, pitch  int // R rows of P columns a plane
	plane        int // R·P
	phases       int // sh·sw planes
	tapPhase     []int
	shift        []int   // per tap (kh×kw order): its offset within its plane
	offs         []int64 // per tap: byte offset in the phase image, for the forward tiles
	out          int     // output floats at pitch P, whole tiles
	xlen         int     // phase image floats and what the tiles read past them
	margin, dlen int     // dY at pitch P: zeros before it, and floats in all
	span         int     // phase gradient floats in whole tiles
	back         [][]int // per phase: its taps
	backOffs     [][]int64
	colLo, colHi []int // per column phase: the plane columns that lie in the image
}

func newPhasePlan(g geom2d) *phasePlan {
	p := &phasePlan{g: g, phases: g.sh * g.sw}
	type tap struct{ phase, dr, dc int }
	taps := make([]tap, 0, g.kh*g.kw)
	minR, maxR, minC, maxC := 1<<30, -1<<30, 1<<30, -1<<30
	for ki := range g.kh {
		for kj := range g.kw {
			v, u := ki*g.dh-g.ph, kj*g.dw-g.pw
			t := tap{phase: floorMod(v, g.sh)*g.sw + floorMod(u, g.sw), dr: floorDiv(v, g.sh), dc: floorDiv(u, g.sw)}
			minR, maxR, minC, maxC = min(minR, t.dr), max(maxR, t.dr), min(minC, t.dc), max(maxC, t.dc)
			taps = append(taps, t)
		}
	}
	p.r0, p.c0 = minR, minC
	p.rows, p.pitch = g.oh+maxR-minR, g.ow+maxC-minC
	p.plane = p.rows * p.pitch
	p.out = roundUp(g.oh*p.pitch, run1)
	p.xlen = p.phases * p.plane
	p.back = make([][]int, p.phases)
	for i, t := range taps {
		sh := (t.dr-minR)*p.pitch + t.dc - minC
		p.tapPhase = append(p.tapPhase, t.phase)
		p.shift = append(p.shift, sh)
		p.offs = append(p.offs, int64(4*(t.phase*p.plane+sh)))
		p.xlen = max(p.xlen, t.phase*p.plane+sh+p.out)
		p.margin = max(p.margin, sh)
		p.back[t.phase] = append(p.back[t.phase], i)
	}
	for cp := range g.sw {
		lo := max(0, floorDiv(-cp+g.sw-1, g.sw)-p.c0)
		hi := min(p.pitch, floorDiv(g.w-1-cp, g.sw)-p.c0+1)
		p.colLo, p.colHi = append(p.colLo, lo), append(p.colHi, max(lo, hi))
	}
	p.span = roundUp(p.plane, run1)
	p.dlen = p.margin + max(p.span, p.out)
	p.backOffs = make([][]int64, p.phases)
	for ph, list := range p.back {
		for _, i := range list {
			p.backOffs[ph] = append(p.backOffs[ph], int64(4*(p.margin-p.shift[i])))
		}
	}
	return p
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// image writes the phase planes of img (h×w) to x (xlen floats): plane
// (rp, cp) row r, column c holds pixel (sh·(r+r0)+rp, sw·(c+c0)+cp), zero
// where that is padding, and zeros after the planes. It reads the image's
// rows in order, every row phase of a plane row together, so that the
// reads stream from memory: a row phase at a time (every other row, then
// the rest) took 11.4-11.8 ms against 8.0-8.2 for MobileNet-V2's
// 96×112×112 stride-2 layer at batch 16 (BenchmarkDepthwiseStrategies,
// 2-core AMD EPYC).
func (p *phasePlan) image(x, img []float32) {
	g := p.g
	for r := range p.rows {
		for rp := range g.sh {
			iy := g.sh*(r+p.r0) + rp
			if iy < 0 || iy >= g.h {
				for cp := range g.sw {
					clear(x[(rp*g.sw+cp)*p.plane+r*p.pitch:][:p.pitch])
				}
				continue
			}
			src := img[iy*g.w:][:g.w]
			if g.sw == 2 {
				p.splitRow(x[rp*2*p.plane+r*p.pitch:][:p.pitch], x[(rp*2+1)*p.plane+r*p.pitch:][:p.pitch], src)
				continue
			}
			for cp := range g.sw {
				row := x[(rp*g.sw+cp)*p.plane+r*p.pitch:][:p.pitch]
				lo, hi := p.columns(cp)
				if lo >= hi {
					clear(row)
					continue
				}
				clear(row[:lo])
				clear(row[hi:])
				ix := g.sw*(lo+p.c0) + cp
				if g.sw == 1 {
					copy(row[lo:hi], src[ix:])
					continue
				}
				for c := lo; c < hi; c++ {
					row[c] = src[ix]
					ix += g.sw
				}
			}
		}
	}
	clear(x[p.phases*p.plane : p.xlen])
}

// columns returns the columns [lo, hi) of a plane of column phase cp that
// lie in the image (lo is −c0: c0 is not positive).
func (p *phasePlan) columns(cp int) (lo, hi int) { return p.colLo[cp], p.colHi[cp] }

// splitRow writes an image row src to its even and odd column phases'
// plane rows at stride 2, on the vector kernel: the pairs both phases
// have, then the even phase's last column where the row is odd.
func (p *phasePlan) splitRow(even, odd, src []float32) {
	lo, hi0 := p.columns(0)
	_, hi1 := p.columns(1)
	n := hi1 - lo
	kernel.Deinterleave(even[lo:hi1], odd[lo:hi1], src[:2*n])
	if hi0 > hi1 {
		even[hi1] = src[2*n]
	}
	clear(even[:lo])
	clear(even[hi0:])
	clear(odd[:lo])
	clear(odd[hi1:])
}

// tiles runs Run1 over out (n floats, whole tiles) with the terms offs of
// x weighted by a, plus bias (a pointer to one float), through a Relu
// where relu is set. t is the kernel's argument block, the caller's so
// that it is allocated once per worker or chunk rather than once a call
// (the kernel's pointer makes it escape): tens of thousands of calls a
// pass.
func tiles(t *kernel.Tile, out, x, a []float32, offs []int64, bias *float32, relu bool, n int) {
	_, _ = out[n-1], a[len(offs)-1]
	*t = kernel.Tile{A: unsafe.Pointer(&a[0]), X: unsafe.Pointer(&x[0]), Offs: unsafe.Pointer(&offs[0]),
		K: int64(len(offs)), Out: unsafe.Pointer(&out[0]), Bias: unsafe.Pointer(bias)}
	if relu {
		t.Relu = 1
	}
	for q := 0; q < n; q += run1 {
		t.XSeg[0], t.OSeg[0] = int64(4*q), int64(4*q)
		kernel.Run(kernel.Run1, t)
	}
}

type phasesConv struct{ p *phasePlan }

func (c phasesConv) forward(s *State, a convArgs, y *Tensor) {
	p, g, bias := c.p, a.g, a.bias()
	hw, ohw, khw := g.h*g.w, g.oh*g.ow, g.kh*g.kw
	var zero float32
	// Blocks of planes that start on a mask word, for the epilogue.
	planes, per := a.n*a.m, 1
	if a.epilogue != nil {
		per = planesPerBlock(ohw)
	}
	forChunks((planes+per-1)/per, per*ohw*khw, func(lo, hi int) {
		x, out := s.scratch(p.xlen), s.scratch(p.out)
		defer s.Buffers.Put(x)
		defer s.Buffers.Put(out)
		t := new(kernel.Tile)
		for blk := lo; blk < hi; blk++ {
			first, last := blk*per, min((blk+1)*per, planes)
			for pl := first; pl < last; pl++ {
				ch := pl % a.m
				b := &zero
				if bias != nil {
					b = &bias[ch]
				}
				p.image(x, a.x.Data[pl*hw:][:hw])
				tiles(t, out, x, a.w.Data[ch*khw:][:khw], p.offs, b, a.relu, p.out)
				kernel.CompactRows(y.Data[pl*ohw:][:ohw], out, g.oh, g.ow, p.pitch)
			}
			a.finish(first*ohw, last*ohw)
		}
	})
}

// streams: forward finishes blocks of planes that start on mask words,
// where there are blocks enough for every core (a plane of an odd number
// of pixels takes 64 planes a block).
func (phasesConv) streams(a convArgs) bool {
	per := planesPerBlock(a.g.oh * a.g.ow)
	return (a.n*a.m+per-1)/per >= 2*runtime.GOMAXPROCS(0)
}
