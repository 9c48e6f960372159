package ops

import (
	"os"
	"unsafe"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// Direct convolution: where the CPU has the kernel (internal/kernel,
// AVX-512F), a unit-stride convolution runs without im2col. Its input is
// copied once into a zero-padded image, and the kernel computes tiles of 8
// output channels by 3 segments of 16 adjacent output pixels, reading each
// (channel, kernel row, kernel column) term as a shifted vector of the
// padded image and adding bias and Relu before it stores. The weights are
// repacked once per call, 8 channels interleaved, so that the kernel
// broadcasts them from consecutive addresses.
//
// useKernels says whether the vector kernels of internal/kernel run: the
// direct convolution and the 2×2 max pool. ONNXGUARD_KERNELS=off turns
// them off, so that the portable paths can be compared and tested on the
// same machine.
var useKernels = kernel.Available && os.Getenv("ONNXGUARD_KERNELS") != "off"

const (
	tileRows  = kernel.Rows
	tileSegs  = kernel.Segs
	tileLanes = kernel.Lanes
)

// canDirect reports whether the direct kernel can run the window g.
func canDirect(g geom2d) bool {
	return useKernels && g.sh == 1 && g.sw == 1 && g.oh > 0 && g.ow > 0
}

// directPlan is what a direct convolution computes once per call and
// shares between samples: packed weights, term offsets and segments.
type directPlan struct {
	g      geom2d
	m      int // output channels per group
	group  int
	hp, wp int       // padded image size
	packed []float32 // per group, per tile: k rows of 8
	bias   []float32 // per group, per tile: 8
	offs   []int64   // k byte offsets
	segs   []segment
	relu   bool
}

type segment struct {
	x, o int64 // byte offsets in the padded image and in an output channel
	mask uint64
}

// planDirect packs w (group·m × g.c × kh × kw) and b (nil, or group·m) for
// the kernel and lays out the offsets and segments of the window g.
func planDirect(s *State, g geom2d, w, b []float32, m, group int, relu bool) *directPlan {
	k := g.colRows()
	tiles := (m + tileRows - 1) / tileRows
	p := &directPlan{g: g, m: m, group: group, relu: relu,
		hp: g.oh + (g.kh-1)*g.dh, wp: g.ow + (g.kw-1)*g.dw}
	p.packed = s.Buffers.get(group*tiles*k*tileRows, true)
	p.bias = make([]float32, group*tiles*tileRows)
	for gr := range group {
		for t := range tiles {
			dst := p.packed[(gr*tiles+t)*k*tileRows:][:k*tileRows]
			for r := range min(tileRows, m-t*tileRows) {
				o := gr*m + t*tileRows + r
				for i, v := range w[o*k:][:k] {
					dst[i*tileRows+r] = v
				}
				if b != nil {
					p.bias[(gr*tiles+t)*tileRows+r] = b[o]
				}
			}
		}
	}
	p.offs = make([]int64, 0, k)
	for c := range g.c {
		for ki := range g.kh {
			for kj := range g.kw {
				p.offs = append(p.offs, int64(4*((c*p.hp+ki*g.dh)*p.wp+kj*g.dw)))
			}
		}
	}
	for oy := range g.oh {
		for ox := 0; ox < g.ow; ox += tileLanes {
			p.segs = append(p.segs, segment{x: int64(4 * (oy*p.wp + ox)), o: int64(4 * (oy*g.ow + ox)),
				mask: 1<<min(tileLanes, g.ow-ox) - 1})
		}
	}
	return p
}

func (p *directPlan) release(s *State) { s.Buffers.Put(p.packed) }

// padLen is the length of the padded image one group of one sample needs.
func (p *directPlan) padLen() int { return p.g.c * p.hp * p.wp }

// pad copies img (g.c × h × w) into the zero-padded image dst.
func (p *directPlan) pad(dst, img []float32) {
	g := p.g
	clear(dst)
	for c := range g.c {
		for y := range g.h {
			py := y + g.ph
			if py < 0 || py >= p.hp {
				continue
			}
			src := img[(c*g.h+y)*g.w:][:g.w]
			row := dst[(c*p.hp+py)*p.wp:][:p.wp]
			lo, hi := max(0, -g.pw), min(g.w, p.wp-g.pw)
			if lo < hi {
				copy(row[lo+g.pw:hi+g.pw], src[lo:hi])
			}
		}
	}
}

// run convolves one group of one sample: img is its input (g.c × h × w),
// out its m output channels (m × oh × ow), padded scratch of padLen.
func (p *directPlan) run(out, img, padded []float32, gr int) {
	p.pad(padded, img)
	g := p.g
	k := g.colRows()
	tiles := (p.m + tileRows - 1) / tileRows
	ohw := g.oh * g.ow
	var t kernel.Tile
	t.X = unsafe.Pointer(&padded[0])
	t.Offs = unsafe.Pointer(&p.offs[0])
	t.K = int64(k)
	t.OStride = int64(4 * ohw)
	if p.relu {
		t.Relu = 1
	}
	for ti := range tiles {
		a := p.packed[(gr*tiles+ti)*k*tileRows:]
		t.Bias = unsafe.Pointer(&p.bias[(gr*tiles+ti)*tileRows])
		t.Out = unsafe.Pointer(&out[ti*tileRows*ohw])
		t.Rows = int64(min(tileRows, p.m-ti*tileRows))
		for s := 0; s < len(p.segs); s += tileSegs {
			t.A = unsafe.Pointer(&a[0])
			for j := range tileSegs {
				if s+j < len(p.segs) {
					sg := p.segs[s+j]
					t.XSeg[j], t.OSeg[j], t.Mask[j] = sg.x, sg.o, sg.mask
				} else {
					t.XSeg[j], t.OSeg[j], t.Mask[j] = 0, 0, 0
				}
			}
			kernel.Run(&t)
		}
	}
}
