package ops

import (
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// The rows strategy, for depthwise convolutions (one group per channel)
// at stride 1 or 2 on the vector kernels: MobileNet's and EfficientNet's
// layers on planes of 28×28 and more, ConvNeXt's 7×7 ones. It reads each
// plane as it lies, four output rows at a time, each tap's padding
// columns left out by lane masks (kernel.DepthwiseRows), where the phases
// strategy copies the plane into zero-padded phase planes and compacts
// its output back: two passes over each plane and its output, which on
// MobileNet-V2's 112×112 and 56×56 layers took more time than the taps.
// Backward at unit stride, dX is the same convolution of dY with each
// kernel turned 180°; at stride 2, each row of dX gets the kernel rows of
// its parity over consecutive rows of dY, each tap's dY pixels spread to
// every other column (kernel.NewRowLayoutUp). dW sums, for each tap, dY
// times the plane's pixels the tap read, a kernel row at a time.
func init() {
	registerConvStrategy(convStrategy{name: "rows", rank: 85, vector: true,
		forward: func(k convKey) convForward {
			if !rowsTakes(k, k.g) {
				return nil
			}
			return rowsConv{newRowsPlan(k.g)}
		},
		inputGrad: func(k convKey) convGradient {
			if k.g.sh == 2 && rowsTakes(k, k.g) {
				return rowsUpInput{newRowsUpPlan(k.g)}
			}
			if gf := k.g.flipped(1); k.g.sh != 1 || !rowsTakes(k, gf) {
				return nil
			} else {
				return rowsInput{newRowsPlan(gf)}
			}
		},
		weightGrad: func(k convKey) convGradient {
			if !rowsTakes(k, k.g) {
				return nil
			}
			return rowsWeights{newRowsPlan(k.g)}
		},
	})
}

// maxRowsTaps bounds the taps of a kernel row the strategy takes: its
// masks are four words a tap for each 16 pixels of an output row, and a
// hostile file's kernel of thousands of columns would make that more
// than the plane; the other strategies take such windows.
const maxRowsTaps = 15

// rowsTakes reports whether the strategy takes window g of key k: a
// depthwise window on the vector kernels, undilated, at stride 1 or 2 on
// both axes, with an output.
func rowsTakes(k convKey, g geom2d) bool {
	return k.kernels && k.group >= 2 && g.c == 1 && k.mg() == 1 && g.oh > 0 && g.ow > 0 &&
		g.sh == g.sw && (g.sh == 1 || g.sh == 2) && g.dh == 1 && g.dw == 1 && g.kw <= maxRowsTaps && g.kh <= maxRowsTaps
}

// rowsPlan is a window's row layout and its output rows in runs that read
// the same kernel rows: the rows whose kernel reaches into the top or
// bottom padding one by one, the others together.
type rowsPlan struct {
	g    geom2d
	l    *kernel.RowLayout
	runs []rowsRun
}

// rowsRun is rows output rows from oy whose kernel rows ki0..ki0+kh−1
// read the image.
type rowsRun struct{ oy, rows, ki0, kh int }

func newRowsPlan(g geom2d) *rowsPlan {
	p := &rowsPlan{g: g, l: kernel.NewRowLayout(g.w, g.ow, g.kw, g.pw, g.sw)}
	for oy := range g.oh {
		iy := oy*g.sh - g.ph
		ki0 := max(0, -iy)
		kh := max(0, min(g.kh, g.h-iy)-ki0)
		if n := len(p.runs); n > 0 && p.runs[n-1].ki0 == ki0 && p.runs[n-1].kh == kh {
			p.runs[n-1].rows++
			continue
		}
		p.runs = append(p.runs, rowsRun{oy: oy, rows: 1, ki0: ki0, kh: kh})
	}
	return p
}

// plane writes out (oh×ow) from one channel's plane x (h×w) and kernel w
// (kh×kw).
func (p *rowsPlan) plane(out, x, w []float32, bias float32, relu bool) {
	g := p.g
	for _, r := range p.runs {
		x0 := 0
		if r.kh > 0 {
			x0 = (r.oy*g.sh - g.ph + r.ki0) * g.w
		}
		p.l.DepthwiseRows(out[r.oy*g.ow:], x, w[r.ki0*g.kw:], x0, g.sh*g.w, g.ow, r.rows, r.kh, bias, relu)
	}
}

type rowsConv struct{ p *rowsPlan }

func (c rowsConv) forward(s *State, a convArgs, y *Tensor) {
	g, bias := a.g, a.bias()
	hw, ohw, khw := g.h*g.w, g.oh*g.ow, g.kh*g.kw
	planes, per := a.n*a.m, 1
	if a.epilogue != nil {
		per = planesPerBlock(ohw)
	}
	forChunks((planes+per-1)/per, per*ohw*khw, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			first, last := blk*per, min((blk+1)*per, planes)
			for pl := first; pl < last; pl++ {
				ch := pl % a.m
				var b float32
				if bias != nil {
					b = bias[ch]
				}
				c.p.plane(y.Data[pl*ohw:][:ohw], a.x.Data[pl*hw:][:hw], a.w.Data[ch*khw:][:khw], b, a.relu)
			}
			a.finish(first*ohw, last*ohw)
		}
	})
}

// streams: forward finishes blocks of planes that start on mask words,
// where there are blocks enough for every core.
func (rowsConv) streams(a convArgs) bool {
	per := planesPerBlock(a.g.oh * a.g.ow)
	return (a.n*a.m+per-1)/per >= 2*runtime.GOMAXPROCS(0)
}

// rowsInput computes dX at unit stride: the rows over dY with each kernel
// turned 180° (the plan is the flipped window's).
type rowsInput struct{ p *rowsPlan }

func (c rowsInput) begin(s *State, a convArgs, _ int, _ gemmFunc) convStep {
	wf := s.scratch(a.w.Len())
	flipWeights(a.kernels, wf, a.w.Data, a.group, 1, a.g)
	return rowsInputStep{p: c.p, wf: wf}
}

type rowsInputStep struct {
	p  *rowsPlan
	wf []float32 // the kernels turned 180°
}

func (st rowsInputStep) release(s *State) { s.Buffers.Put(st.wf) }

// group writes channel gr's dX (h×w) of one sample from its dY (oh×ow).
func (st rowsInputStep) group(_, gr int, dx, dy, _ []float32) {
	khw := st.p.g.kh * st.p.g.kw
	st.p.plane(dx, dy, st.wf[gr*khw:][:khw], 0, false)
}

// rowsWeights computes dW a kernel row at a time, over the output rows
// whose input row for it lies in the image (kernel.DepthwiseRowsGrad).
type rowsWeights struct{ p *rowsPlan }

func (c rowsWeights) begin(*State, convArgs, int, gemmFunc) convStep { return c }

func (rowsWeights) release(*State) {}

// group adds one channel of one sample's weight gradient to dw (kh·kw).
func (c rowsWeights) group(_, _ int, dw, dy, x []float32) {
	g := c.p.g
	for ki := range g.kh {
		// Output rows oy0..oy1−1 read input row oy·sh − ph + ki in the image.
		oy0 := max(0, ceilDiv(g.ph-ki, g.sh))
		oy1 := min(g.oh, floorDiv(g.h-1+g.ph-ki, g.sh)+1)
		if oy0 >= oy1 {
			continue
		}
		c.p.l.DepthwiseRowsGrad(dw[ki*g.kw:][:g.kw], dy, x, oy0*g.ow, (oy0*g.sh-g.ph+ki)*g.w, g.ow, g.sh*g.w, oy1-oy0)
	}
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

// rowsUpPlan is dX of a stride-2 window: each row iy of dX gets kernel
// row ki where iy + ph − ki is even, from dY's row (iy + ph − ki)/2 where
// that lies in dY. Rows of one parity two apart read the same kernel rows
// one dY row apart; runs group them.
type rowsUpPlan struct {
	g    geom2d
	l    *kernel.RowLayout
	runs []rowsUpRun
}

// rowsUpRun is rows rows of dX from iy, two apart, whose kernel rows are
// kmax, kmax−2, ... (kh of them), the first reading dY's row q.
type rowsUpRun struct{ iy, rows, kmax, kh, q int }

func newRowsUpPlan(g geom2d) *rowsUpPlan {
	p := &rowsUpPlan{g: g, l: kernel.NewRowLayoutUp(g.ow, g.w, g.kw, g.pw)}
	for parity := range 2 {
		for iy := parity; iy < g.h; iy += 2 {
			r := rowsUpRun{iy: iy, rows: 1}
			for ki := g.kh - 1; ki >= 0; ki-- {
				if v := iy + g.ph - ki; v%2 == 0 && v >= 0 && v/2 < g.oh {
					if r.kh == 0 {
						r.kmax, r.q = ki, v/2
					}
					r.kh++
				}
			}
			if n := len(p.runs); n > 0 {
				if last := &p.runs[n-1]; last.iy%2 == parity && last.kmax == r.kmax && last.kh == r.kh &&
					(r.kh == 0 || last.q+last.rows == r.q) {
					last.rows++
					continue
				}
			}
			p.runs = append(p.runs, r)
		}
	}
	return p
}

// rowsUpInput computes dX at stride 2 on the plan.
type rowsUpInput struct{ p *rowsUpPlan }

func (c rowsUpInput) begin(_ *State, a convArgs, workers int, _ gemmFunc) convStep {
	st := rowsUpStep{p: c.p, w: a.w.Data, wts: make([][]float32, workers)}
	for wk := range workers {
		st.wts[wk] = make([]float32, c.p.g.kh*c.p.g.kw)
	}
	return st
}

type rowsUpStep struct {
	p   *rowsUpPlan
	w   []float32   // the kernels
	wts [][]float32 // per worker: a run's kernel rows, in the order it reads them
}

func (rowsUpStep) release(*State) {}

// group writes channel gr's dX (h×w) of one sample from its dY (oh×ow).
func (st rowsUpStep) group(wk, gr int, dx, dy, _ []float32) {
	g, wts := st.p.g, st.wts[wk]
	kern := st.w[gr*g.kh*g.kw:][:g.kh*g.kw]
	for _, r := range st.p.runs {
		for t := range r.kh {
			copy(wts[t*g.kw:][:g.kw], kern[(r.kmax-2*t)*g.kw:])
		}
		st.p.l.DepthwiseRows(dx[r.iy*g.w:], dy, wts, r.q*g.ow, g.ow, 2*g.w, r.rows, r.kh, 0, false)
	}
}
