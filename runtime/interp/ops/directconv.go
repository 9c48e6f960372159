package ops

import (
	"slices"
	"unsafe"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// Direct convolution: where the CPU has the kernels (internal/kernel,
// AVX-512F), a unit-stride convolution runs without im2col. Its input is
// read zero-padded (copied once, or in place where there is no padding),
// and a kernel computes tiles of output channels by segments of 16
// adjacent output pixels (8 by 3 or 6 by 4, whichever leaves fewer lanes
// empty; 4 by 6 for 4 or fewer channels left over, 1 by 12 for a single
// one in a wide plan, 8 by 2 or 8 by 1 for a last group of segments),
// reading each
// (channel, kernel row, kernel column) term as a shifted vector of the
// padded image and adding bias and Relu before it stores. The weights are
// repacked once per call, a tile's channels interleaved, so that the
// kernel broadcasts them from consecutive addresses. The gradient with
// respect to the input is the flipped convolution on the same kernels;
// the gradient with respect to the weights has its own (gradW).
//
// canDirect reports whether the direct kernel can run the window g, for
// a node that takes the kernels' paths (State.Kernels): unit strides, an
// output, and terms to sum (an empty window, which a hostile file may
// declare, stays with im2col).
func canDirect(kernels bool, g geom2d) bool {
	return kernels && g.sh == 1 && g.sw == 1 && g.oh > 0 && g.ow > 0 && g.colRows() > 0
}

// directPlan is what a direct convolution computes once per call and
// shares between samples: packed weights, term offsets and segments.
//
// Segments run along output rows, 16 pixels each and the last of a row
// masked; or, where rows are narrow (an MNIST layer's 11 or 26 pixels,
// which fill 69% or 81% of their segments), the plan is wide: the kernel
// computes every column of the padded width, so that a segment runs on
// across rows and only the image's last is masked, into a wide buffer
// whose columns past the output's are then left out as the rows are
// copied to the output (where there are none, straighten stores into the
// output instead).
type directPlan struct {
	g       geom2d
	m       int // output channels per group
	group   int
	hp, wp  int  // padded image size
	wide    bool // the kernels store into the wide buffer (see above)
	inPlace bool // no padding: the kernels read the image itself
	xlen    int  // floats of the padded image and the room past it that Run1 reads
	ocs     int  // wide: floats per channel of the wide buffer
	tiles   []kernel.Span
	packed  []float32 // per group, per tile: k rows of the tile's channels
	bias    []float32 // per group, per tile: one per channel of the tile
	offs    []int64   // k byte offsets
	segs    []segment
	k       int // terms: g's taps, or the offsets planDirectTerms was given
	block   int // segments each tile runs before the next (segBlock)
	relu    bool
}

// A segment is 16 adjacent output pixels: its byte offsets in the padded
// image (X) and in an output channel (DY, as the weight gradient reads
// it), and which of the 16 exist.
type segment = kernel.GradSeg

// bestTiles picks the main shape whose tiles compute the fewest lanes for
// m channels over nseg segments: channel rows the tiles leave empty and
// segments of a last, partial group both cost. Tall wins ties.
func bestTiles(m, k, nseg int, wide bool) (tiles []kernel.Span, packLen, biasLen int) {
	cost := func(tiles []kernel.Span) int {
		c := 0
		for _, t := range tiles {
			c += t.Shape.Rows * t.Shape.Segs * ((nseg + t.Shape.Segs - 1) / t.Shape.Segs)
		}
		return c
	}
	tiles, packLen, biasLen = kernel.Cover(m, k, wide, kernel.Tall)
	if t, p, b := kernel.Cover(m, k, wide, kernel.Broad); cost(t) < cost(tiles) {
		tiles, packLen, biasLen = t, p, b
	}
	return tiles, packLen, biasLen
}

// planDirect lays out the term offsets and segments of the window g and,
// unless w is nil (a plan for the weight gradient alone, whose segments
// always follow rows), packs w (group·m × g.c × kh × kw) and b (nil, or
// group·m) for the kernel.
func planDirect(s *State, g geom2d, w, b []float32, m, group int, relu bool) *directPlan {
	p := planDirectPart(s, g, g.oh, g.ow, w, b, m, group, relu)
	p.straighten()
	return p
}

// straighten turns a wide plan whose rows are the output's (no column
// padding: wp = ow, as in every 1×1 layer) into a row plan: its segments
// still run across rows, but the output's rows are the padded width, so
// the kernels store into the output itself, channels oh·ow apart, rather
// than into the wide buffer that compact then copies out (5.8% of
// MobileNet-V2's FGSM pass went to that copy, its 1×1 layers at 56×56,
// 28×28, 14×14 and 7×7 all wide). A plan with a Run1 tile stays wide:
// Run1 stores whole groups of 12 segments, past a channel's last pixel.
func (p *directPlan) straighten() {
	if !p.wide || p.wp != p.g.ow || p.tiles == nil {
		return
	}
	for _, t := range p.tiles {
		if t.Shape == kernel.Run1 {
			return
		}
	}
	p.wide = false
}

// planDirectPart is planDirect computing only the output rows [0, oh) and
// columns [0, ow) of g, for a reader that needs no more: a fused 2×2
// pool of an odd-sized output leaves its last row and column out (MNIST's
// second layer is 11×11, of which the pool reads 10×10: 8 segments of 16
// in a wide plan instead of 9, which the Tall tiles then take as 3, 3
// and 2). The padded image and the layout of the output stay g's.
func planDirectPart(s *State, g geom2d, oh, ow int, w, b []float32, m, group int, relu bool) *directPlan {
	hp, wp := g.oh+(g.kh-1)*g.dh, g.ow+(g.kw-1)*g.dw
	offs := make([]int64, 0, g.colRows()+2)
	for c := range g.c {
		for ki := range g.kh {
			for kj := range g.kw {
				offs = append(offs, int64(4*((c*hp+ki*g.dh)*wp+kj*g.dw)))
			}
		}
	}
	return planDirectTerms(s, g, offs, oh, ow, w, b, m, group, relu)
}

// planDirectTerms is planDirectPart with the terms' byte offsets into the
// padded image (g.c planes of its size) given, one per row of w's
// channels (m × len(offs)), rather than g's taps in their order: the
// space-to-depth strategy's taps, each in its phase plane. The padded
// image is g's; offs is the plan's from then on.
func planDirectTerms(s *State, g geom2d, offs []int64, oh, ow int, w, b []float32, m, group int, relu bool) *directPlan {
	k := len(offs)
	p := &directPlan{g: g, k: k, m: m, group: group, relu: relu, block: segBlock,
		hp: g.oh + (g.kh-1)*g.dh, wp: g.ow + (g.kw-1)*g.dw, offs: offs}
	reach := int(slices.Max(p.offs) / 4) // the farthest term's offset
	for len(p.offs)%3 != 0 {             // whole triples for the weight gradient
		p.offs = append(p.offs, 0)
	}
	lanes := kernel.Lanes
	rowFill := float64(ow) / float64(lanes*((ow+lanes-1)/lanes))
	p.wide = w != nil && float64(ow)/float64(p.wp) > rowFill+0.03
	p.xlen = g.c * p.hp * p.wp
	if p.wide {
		last := (oh-1)*p.wp + ow // pixels up to the last the output keeps
		for q := 0; q < last; q += lanes {
			p.segs = append(p.segs, segment{X: int64(4 * q), DY: int64(4 * q), Mask: 1<<min(lanes, last-q) - 1})
		}
		// Run1 reads and stores whole groups of 12 segments.
		whole := lanes * kernel.Run1.Segs * ((len(p.segs) + kernel.Run1.Segs - 1) / kernel.Run1.Segs)
		// A whole number of padded rows, so the pool can read it as planes.
		p.ocs = (max(g.oh*p.wp, whole) + p.wp - 1) / p.wp * p.wp
		p.xlen = max(p.xlen, reach+whole)
	} else {
		for oy := range oh {
			for ox := 0; ox < ow; ox += lanes {
				p.segs = append(p.segs, segment{X: int64(4 * (oy*p.wp + ox)), DY: int64(4 * (oy*g.ow + ox)),
					Mask: 1<<min(lanes, ow-ox) - 1})
			}
		}
	}
	// Without padding the image is its own padded image, and the masked
	// kernels read nothing past it; Run1 reads whole groups of segments.
	p.inPlace = g.ph == 0 && g.pw == 0 && p.hp == g.h && p.wp == g.w
	if w == nil {
		return p
	}
	tiles, packLen, biasLen := bestTiles(m, k, len(p.segs), p.wide)
	p.tiles = tiles
	for _, t := range tiles {
		if t.Shape == kernel.Run1 {
			p.inPlace = false
		}
	}
	p.packed = s.Buffers.Get(group*packLen, true)
	p.bias = make([]float32, group*biasLen)
	for gr := range group {
		for _, t := range tiles {
			// The tile's rows of w, k terms each, as k rows of its
			// channels (16×16 blocks in registers: a strided store a
			// weight took 3% of MobileNet-V2's FGSM pass, on one core).
			rows, o := t.Shape.Rows, gr*m+t.First
			kernel.Transpose(p.packed[gr*packLen+t.Pack:][:k*rows], w[o*k:][:t.N*k], t.N, k, rows, k)
			if b != nil {
				copy(p.bias[gr*biasLen+t.Bias:][:t.N], b[o:o+t.N])
			}
		}
	}
	return p
}

func (p *directPlan) release(s *State) {
	if p.packed != nil {
		s.Buffers.Put(p.packed)
	}
}

// scratchLen is the scratch one group of one sample needs: the padded
// image, unless the kernels read the image in place, and the wide buffer
// of a wide plan.
func (p *directPlan) scratchLen() int {
	n := p.wideLen()
	if !p.inPlace {
		n += p.xlen
	}
	return max(n, 1)
}

// image returns what the kernels read for img: img itself, or its padded
// copy in scratch.
func (p *directPlan) image(img, scratch []float32) []float32 {
	if p.inPlace {
		return img
	}
	x := scratch[:p.xlen]
	p.pad(x, img)
	clear(x[p.g.c*p.hp*p.wp:])
	return x
}

// pad copies img (g.c × h × w) into the padded image dst and zeroes its
// border; what it does not write is never read. Rows and columns of img
// that fall outside dst (negative padding) are left out.
func (p *directPlan) pad(dst, img []float32) {
	g := p.g
	// Image rows [y0, y1) land on padded rows y0+ph...; image columns
	// [x0, x1) on columns x0+pw...
	y0, y1 := max(0, -g.ph), min(g.h, p.hp-g.ph)
	x0, x1 := max(0, -g.pw), min(g.w, p.wp-g.pw)
	for c := range g.c {
		plane := dst[c*p.hp*p.wp:][:p.hp*p.wp]
		if y0 >= y1 || x0 >= x1 {
			clear(plane)
			continue
		}
		clear(plane[:(y0+g.ph)*p.wp])
		clear(plane[(y1+g.ph)*p.wp:])
		for y := y0; y < y1; y++ {
			row := plane[(y+g.ph)*p.wp:][:p.wp]
			clear(row[:x0+g.pw])
			copy(row[x0+g.pw:x1+g.pw], img[(c*g.h+y)*g.w+x0:][:x1-x0])
			clear(row[x1+g.pw:])
		}
	}
}

// run convolves one group of one sample: img is its input (g.c × h × w),
// out its m output channels (m × oh × ow), scratch of scratchLen.
func (p *directPlan) run(out, img, scratch []float32, gr int) {
	res, rows, _ := p.conv(out, img, scratch, gr)
	p.compact(out, res, rows)
}

// compact copies a wide plan's output rows, their first ow columns, from
// res to out; a row plan's res is out already.
func (p *directPlan) compact(out, res []float32, rows int) {
	if p.wide {
		g := p.g
		for ch := range p.m {
			kernel.CompactRows(out[ch*g.oh*g.ow:][:g.oh*g.ow], res[ch*p.ocs:], g.oh, g.ow, rows)
		}
	}
}

// layout returns the floats between the rows and between the channels
// of what the kernels write: the output's (ow, oh·ow) for a row plan, the
// wide buffer's (wp, ocs) for a wide one.
func (p *directPlan) layout() (rows, planes int) {
	if p.wide {
		return p.wp, p.ocs
	}
	return p.g.ow, p.g.oh * p.g.ow
}

// wideLen is the scratch a wide plan's output takes, 0 for a row plan.
func (p *directPlan) wideLen() int {
	if p.wide {
		return p.m * p.ocs
	}
	return 0
}

// pooledScratch is the scratch a fused pool (convPool) needs beyond
// scratchLen: room for the convolution's output where a row plan would
// write it to the output.
func (p *directPlan) pooledScratch() int {
	if p.wide {
		return 0
	}
	return p.m * p.g.oh * p.g.ow
}

// conv runs the kernels for one group of one sample and returns where the
// m channels went, with the floats between rows and between channels:
// out itself (ow, oh·ow) for a row plan, the wide buffer (wp, ocs) for a
// wide one.
func (p *directPlan) conv(out, img, scratch []float32, gr int) (res []float32, rows, planes int) {
	x := p.image(img, scratch)
	if !p.inPlace {
		scratch = scratch[p.xlen:]
	}
	return p.kernels(out, x, scratch, gr)
}

// segBlock is how many segments every tile of a plan runs before the
// next block: the tiles then read a block's input from cache, not each
// the whole image from memory (a sample's 16×112×112 input is 0.8 MB,
// and a 1×1 layer to 96 channels runs 12 tiles of 8 over it). A multiple
// of every shape's segments (3, 4, 6 and 12), so that only the last
// block has a partial group. BenchmarkDirectBlocks, forward at batch 16
// on the 2-core AMD EPYC, blocks of 48 against whole images: see the
// benchmark.
const segBlock = 48

// kernels is conv on x, the padded image already made, with the wide
// buffer (of wideLen) at the start of scratch.
func (p *directPlan) kernels(out, x, scratch []float32, gr int) (res []float32, rows, planes int) {
	k := p.k
	rows, planes = p.layout()
	res = out
	if p.wide {
		res = scratch[:p.wideLen()]
	}
	packLen, biasLen := len(p.packed)/p.group, len(p.bias)/p.group
	var t kernel.Tile
	t.X = unsafe.Pointer(&x[0])
	t.Offs = unsafe.Pointer(&p.offs[0])
	t.K = int64(k)
	t.OStride = int64(4 * planes)
	if p.relu {
		t.Relu = 1
	}
	for lo := 0; lo < len(p.segs); lo += p.block {
		segs := p.segs[lo:min(lo+p.block, len(p.segs))]
		for _, tl := range p.tiles {
			a := p.packed[gr*packLen+tl.Pack:]
			t.Bias = unsafe.Pointer(&p.bias[gr*biasLen+tl.Bias])
			t.Out = unsafe.Pointer(&res[tl.First*planes])
			t.Rows = int64(tl.N)
			t.A = unsafe.Pointer(&a[0])
			kernel.RunSegments(tl.Shape, &t, segs)
		}
	}
	return res, rows, planes
}

// gradW adds to dw (m × g.c·kh·kw) the weight gradient of one group of
// one sample: dy is its m output channels' gradient (m × oh × ow), img
// its input (g.c × h × w). padded is scratch of scratchLen, rows scratch of
// 8·oh·ow (for a last tile of fewer than 8 channels) and sums of
// gradSums.
func (p *directPlan) gradW(dw, dy, img, padded, rows, sums []float32) {
	x := p.image(img, padded)
	k, ohw := p.k, p.g.oh*p.g.ow
	triples := len(p.offs) / 3
	t := kernel.GradTile{
		DYStride: int64(4 * ohw),
		X:        unsafe.Pointer(&x[0]),
		Offs:     unsafe.Pointer(&p.offs[0]),
		Triples:  int64(triples),
		Segs:     unsafe.Pointer(&p.segs[0]),
		NSegs:    int64(len(p.segs)),
	}
	for o0 := 0; o0 < p.m; o0 += 8 {
		n := min(8, p.m-o0)
		src := dy[o0*ohw:]
		if n < 8 { // the kernel reads 8 channels: pad with zeros
			copy(rows, src[:n*ohw])
			clear(rows[n*ohw : 8*ohw])
			src = rows
		}
		t.DY = unsafe.Pointer(&src[0])
		if n == 8 && k%3 == 0 { // the kernel adds into dW itself
			t.Out, t.Add, t.OutRow = unsafe.Pointer(&dw[o0*k]), 1, int64(4*k)
			kernel.RunGrad(&t)
			continue
		}
		t.Out, t.Add = unsafe.Pointer(&sums[0]), 0
		kernel.RunGrad(&t)
		for r := range n {
			row := dw[(o0+r)*k:][:k]
			for tr := range triples {
				for j := range 3 {
					if i := 3*tr + j; i < k {
						row[i] += sums[tr*24+r*3+j]
					}
				}
			}
		}
	}
}

// gradSums is the length of gradW's sums scratch.
func (p *directPlan) gradSums() int { return len(p.offs) / 3 * 24 }
