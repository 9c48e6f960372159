package ops

import (
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// The rows strategy, for depthwise convolutions (one group per channel)
// at stride 1 or 2 on the vector kernels: MobileNet's and EfficientNet's
// layers on planes of 14×14 and more, ConvNeXt's 7×7 kernels. It reads each
// plane as it lies, four output rows at a time, each tap's padding
// columns left out by lane masks (kernel.DepthwisePlanes), where the phases
// strategy copies the plane into zero-padded phase planes and compacts
// its output back: two passes over each plane and its output, which on
// MobileNet-V2's 112×112 and 56×56 layers took more time than the taps.
// Backward at unit stride, dX is the same convolution of dY with each
// kernel turned 180°; at stride 2, each row of dX gets the kernel rows of
// its parity over consecutive rows of dY, each tap's dY pixels spread to
// every other column (kernel.NewRowLayoutUp). dW sums, for each tap, dY
// times the plane's pixels the tap read, a kernel row at a time.
func init() {
	registerConvStrategy(convStrategy{name: "rows", rank: 75, vector: true,
		forward: func(k convKey) convForward {
			if !rowsTakes(k, k.g) || pixelsBetter(k, k.g.oh*k.g.ow) {
				return nil
			}
			return rowsConv{newRowsPlan(k.g)}
		},
		inputGrad: func(k convKey) convGradient {
			if pixelsBetter(k, k.g.h*k.g.w) {
				return nil
			}
			if k.g.sh == 2 && rowsTakes(k, k.g) {
				return rowsUpInput{newRowsUpPlan(k.g)}
			}
			if k.g.sh != 1 || k.g.sw != 1 || !rowsTakes(k, k.g.flipped(1)) {
				return nil
			}
			return rowsInput{newRowsPlan(k.g.flipped(1))}
		},
		weightGrad: func(k convKey) convGradient {
			if !rowsTakes(k, k.g) || newPixelLayout(k, k.g, pixelsMaxIn(k.g), pixelsMaxPlane) != nil {
				return nil
			}
			return rowsWeights{newRowsPlan(k.g)}
		},
	})
}

// pixelsBetter reports whether the pixels strategy (convpixels.go), which
// ranks after this one, beats it on window k's part whose plane (the
// output's forward, the input's for dX) has the given pixels: planes of
// 7×7 and less, where a row of 16 lanes holds 7 pixels and the pixels
// strategy's channel vectors are full. BenchmarkDepthwiseStrategies
// (batch 16, 2-core AMD EPYC, pixels against rows): forward 1152×7×7 5×5
// 0.90-0.93 against 1.48 ms, 960×7×7 3×3 0.41-0.42 against 0.50-0.51,
// 672×14×14 5×5 stride 2 0.68-0.76 against 1.24; dX 1152×7×7 1.41
// against 1.91, 960×7×7 0.69 against 0.96. From 14×14 on the rows win:
// forward 576×14×14 3×3 0.77-0.81 against 0.51-0.52, 672×14×14 5×5
// 1.86-2.02 against 1.43-1.46, 192×28×28 3×3 stride 2 0.45-0.47 against
// 0.30-0.38; dX 1.96 against 1.08, 2.78 against 2.23, and 672×14×14 5×5
// stride 2 2.16 against 1.80. The weights' gradient stays with the pixels
// strategy wherever it takes it (576×14×14 3×3 dX and dW 2.84 against
// 2.47 ms, of which dX 1.96 against 1.08; 672×14×14 5×5 5.15 against
// 5.45).
func pixelsBetter(k convKey, plane int) bool {
	return plane <= 7*7 && k.group >= 16
}

// maxRowsTaps bounds the taps of a kernel row the strategy takes: its
// masks are four words a tap for each 16 pixels of an output row, and a
// hostile file's kernel of thousands of columns would make that more
// than the plane; the other strategies take such windows.
const maxRowsTaps = 15

// maxRowsPad bounds the padding the strategy takes, which the transposed
// layout keeps as a 16-bit column offset (kernel.NewRowLayoutUp); a
// hostile file's pads of a million stay with the other strategies.
const maxRowsPad = 1 << 12

// rowsTakes reports whether the strategy takes window g of key k: a
// depthwise window on the vector kernels, undilated, at stride 1 or 2 on
// both axes, with an output, a kernel and pads within bounds.
func rowsTakes(k convKey, g geom2d) bool {
	return k.kernels && k.group >= 2 && g.c == 1 && k.mg() == 1 && g.oh > 0 && g.ow > 0 &&
		g.sh == g.sw && (g.sh == 1 || g.sh == 2) && g.dh == 1 && g.dw == 1 &&
		g.kw >= 1 && g.kw <= maxRowsTaps && g.kh >= 1 && g.kh <= maxRowsTaps &&
		g.pw >= -maxRowsPad && g.pw <= maxRowsPad && g.ph >= -maxRowsPad && g.ph <= maxRowsPad
}

// rowsPlan is a window's row layout and a plane's output rows in runs
// that read the same kernel rows: the rows whose kernel reaches into the
// top or bottom padding one by one, the others together.
type rowsPlan struct {
	g    geom2d
	l    *kernel.RowLayout
	runs *kernel.RowRuns
}

func newRowsPlan(g geom2d) *rowsPlan {
	p := &rowsPlan{g: g, l: kernel.NewRowLayout(g.w, g.ow, g.kw, g.pw, g.sw)}
	var runs []kernel.RowRun
	for oy := range g.oh {
		iy := oy*g.sh - g.ph
		ki0 := max(0, -iy)
		kh := max(0, min(g.kh, g.h-iy)-ki0)
		x0, w0 := 0, 0 // a run of bias alone reads neither
		if kh > 0 {
			x0, w0 = (iy+ki0)*g.w, ki0*g.kw
		}
		if n := len(runs); n > 0 && runs[n-1].W == w0 && runs[n-1].KH == kh {
			runs[n-1].Rows++
			continue
		}
		runs = append(runs, kernel.RowRun{Out: oy * g.ow, X: x0, W: w0, Rows: 1, KH: kh})
	}
	p.runs = p.l.Runs(runs, g.sh*g.w, g.ow)
	return p
}

// planes writes the outputs (oh×ow each) of n consecutive channels from
// their planes x (h×w each), kernels w (kh×kw each) and biases (nil for
// none).
func (p *rowsPlan) planes(out, x, w, bias []float32, n int, relu bool) {
	g := p.g
	p.runs.DepthwisePlanes(out, x, w, bias, n, g.oh*g.ow, g.h*g.w, g.kh*g.kw, relu)
}

// channels writes the outputs of n channels of a from channel ch on, out
// and x at their first planes, with their kernels, biases and Relu.
func (p *rowsPlan) channels(out, x []float32, a convArgs, ch, n int) {
	g := p.g
	p.planes(out, x, a.w.Data[ch*g.kh*g.kw:], a.biasFrom(ch), n, a.relu)
}

type rowsConv struct{ p *rowsPlan }

func (c rowsConv) forward(s *State, a convArgs, y *Tensor) {
	g := a.g
	hw, ohw, khw := g.h*g.w, g.oh*g.ow, g.kh*g.kw
	planes, per := a.n*a.m, rowsBlock(a)
	forChunks((planes+per-1)/per, per*ohw*khw, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			first, last := blk*per, min((blk+1)*per, planes)
			for pl := first; pl < last; {
				ch := pl % a.m
				n := min(last, pl-ch+a.m) - pl // up to the sample's last channel
				c.p.channels(y.Data[pl*ohw:], a.x.Data[pl*hw:], a, ch, n)
				pl += n
			}
			a.finish(first*ohw, last*ohw)
		}
	})
}

// rowsBlock is the planes forward runs in one kernel call: a few
// thousand pixels' worth (16 rows of a 14×14 plane are a few hundred
// multiply-adds, and a call per plane cost as much), a whole number of
// planesPerBlock so that each block starts on a mask word.
func rowsBlock(a convArgs) int {
	ohw := a.g.oh * a.g.ow
	per := planesPerBlock(ohw)
	return per * max(1, 4096/(ohw*per))
}

// streams: forward finishes its blocks of planes, which start on mask
// words, where there are blocks enough for every core.
func (rowsConv) streams(a convArgs) bool {
	per := rowsBlock(a)
	return (a.n*a.m+per-1)/per >= 2*runtime.GOMAXPROCS(0)
}

// rowsInput computes dX at unit stride: the rows over dY with each kernel
// turned 180° (the plan is the flipped window's), a sample at a time.
type rowsInput struct{ p *rowsPlan }

func (c rowsInput) begin(s *State, a convArgs, _ int, _ gemmFunc) convStep {
	wf := s.scratch(a.w.Len())
	flipWeights(a.kernels, wf, a.w.Data, a.group, 1, a.g)
	return rowsInputStep{p: c.p, wf: wf, m: a.m}
}

type rowsInputStep struct {
	p  *rowsPlan
	wf []float32 // the kernels turned 180°
	m  int       // channels
}

func (st rowsInputStep) release(s *State) { s.Buffers.Put(st.wf) }

// rowRuns returns what sample computes a plane with: the runs, each
// plane's weights (wPlane floats apart), the floats of a plane of dY, and
// dX's planes' width and height.
func (st rowsInputStep) rowRuns() (runs *kernel.RowRuns, wts []float32, wPlane, dyPlane, w, h int) {
	g := st.p.g
	return st.p.runs, st.wf, g.kh * g.kw, g.h * g.w, g.ow, g.oh
}

// sample writes a sample's dX from its dY.
func (st rowsInputStep) sample(_ int, dx, dy, _ []float32) {
	st.p.planes(dx, dy, st.wf, nil, st.m, false)
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
// one dY row apart; runs group them, each reading its kernel rows in
// reverse (kmax, kmax−2, ...), which begin gathers for every channel.
type rowsUpPlan struct {
	g    geom2d
	l    *kernel.RowLayout
	runs *kernel.RowRuns
	kmax []int // per run: its first kernel row
	rw   int   // floats of one channel's gathered kernel rows
}

func newRowsUpPlan(g geom2d) *rowsUpPlan {
	p := &rowsUpPlan{g: g, l: kernel.NewRowLayoutUp(g.ow, g.w, g.kw, g.pw)}
	var runs []kernel.RowRun
	for parity := range 2 {
		for iy := parity; iy < g.h; iy += 2 {
			r, kmax := kernel.RowRun{Out: iy * g.w, Rows: 1}, 0
			for ki := g.kh - 1; ki >= 0; ki-- {
				if v := iy + g.ph - ki; v%2 == 0 && v >= 0 && v/2 < g.oh {
					if r.KH == 0 {
						kmax, r.X = ki, v/2*g.ow
					}
					r.KH++
				}
			}
			if n := len(runs); n > 0 {
				last := &runs[n-1]
				if last.Out/g.w%2 == parity && p.kmax[n-1] == kmax && last.KH == r.KH &&
					(r.KH == 0 || last.X+last.Rows*g.ow == r.X) {
					last.Rows++
					continue
				}
			}
			if r.KH == 0 {
				r.X = 0 // a run of zeros reads neither
			} else {
				r.W = p.rw
				p.rw += r.KH * g.kw
			}
			runs = append(runs, r)
			p.kmax = append(p.kmax, kmax)
		}
	}
	p.runs = p.l.Runs(runs, g.ow, 2*g.w)
	return p
}

// rowsUpInput computes dX at stride 2 on the plan, a sample at a time.
type rowsUpInput struct{ p *rowsUpPlan }

func (c rowsUpInput) begin(s *State, a convArgs, _ int, _ gemmFunc) convStep {
	p, g := c.p, c.p.g
	khw := g.kh * g.kw
	ws := s.scratch(max(1, a.m*p.rw))
	for ch := range a.m {
		kern := a.w.Data[ch*khw:][:khw]
		for i, r := range p.runs.Spec() {
			for t := range r.KH {
				copy(ws[ch*p.rw+r.W+t*g.kw:][:g.kw], kern[(p.kmax[i]-2*t)*g.kw:])
			}
		}
	}
	return rowsUpStep{p: p, ws: ws, m: a.m}
}

type rowsUpStep struct {
	p  *rowsUpPlan
	ws []float32 // per channel, each run's kernel rows in the order it reads them
	m  int
}

func (st rowsUpStep) release(s *State) { s.Buffers.Put(st.ws) }

// rowRuns is rowsInputStep's.
func (st rowsUpStep) rowRuns() (runs *kernel.RowRuns, wts []float32, wPlane, dyPlane, w, h int) {
	g := st.p.g
	return st.p.runs, st.ws, st.p.rw, g.oh * g.ow, g.w, g.h
}

// sample writes a sample's dX from its dY.
func (st rowsUpStep) sample(_ int, dx, dy, _ []float32) {
	g := st.p.g
	st.p.runs.DepthwisePlanes(dx, dy, st.ws, nil, st.m, g.h*g.w, g.oh*g.ow, st.p.rw, false)
}
