package ops

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

func init() { register("Conv", 1, newConv) }

// conv is a grouped 2-D convolution: on the direct kernel (directconv.go)
// where it can run, otherwise im2col plus one matrix multiply per sample
// and group; 1-D convolutions run as 2-D with height 1.
type conv struct {
	win   window
	group int
	relu  bool // a Relu on the output folded in by FuseRelu
}

type convSaved struct {
	g    geom2d
	xs   []int // input shape as given (rank 3 for 1-D)
	hasB bool
}

func newConv(n *Node) (Op, error) {
	w, g, err := parseConvWindow(n)
	if err != nil {
		return nil, err
	}
	return &conv{win: w, group: g}, nil
}

// parseConvWindow reads what Conv and ConvTranspose share: the window
// attributes and group.
func parseConvWindow(n *Node) (window, int, error) {
	w, err := parseWindow(n)
	if err != nil {
		return w, 0, err
	}
	g, err := n.Int("group", 1)
	if err != nil {
		return w, 0, err
	}
	if g < 1 {
		return w, 0, fmt.Errorf("group %d must be at least 1", g)
	}
	return w, int(g), nil
}

// as2d views a rank-3 (N,C,L) tensor shape as rank 4 (N,C,1,L).
func as2d(shape []int) ([]int, bool) {
	if len(shape) == 3 {
		return []int{shape[0], shape[1], 1, shape[2]}, true
	}
	return shape, false
}

// geometry applies the window rule to input x and weight w (both rank 4).
func (c *conv) geometry(xs, ws []int, oneD bool) (geom2d, error) {
	win := c.win
	kernel := ws[2:]
	if oneD {
		win = oneDWindow(win)
	}
	if len(win.kernel) > 0 && !slices.Equal(win.kernel, kernel) {
		return geom2d{}, fmt.Errorf("kernel_shape %v disagrees with the weight's %v", win.kernel, kernel)
	}
	r, size, err := win.resolve(xs[2:], kernel)
	if err != nil {
		return geom2d{}, err
	}
	return geom2d{c: xs[1] / c.group, h: xs[2], w: xs[3], kh: kernel[0], kw: kernel[1],
		sh: r.strides[0], sw: r.strides[1], ph: r.pads[0], pw: r.pads[1],
		dh: r.dilations[0], dw: r.dilations[1], oh: size[0], ow: size[1]}, nil
}

// oneDWindow lifts 1-D window attributes to 2-D with a unit height.
func oneDWindow(w window) window {
	lift := func(v []int, def int) []int {
		if len(v) == 0 {
			return nil
		}
		return []int{def, v[0]}
	}
	out := w
	out.kernel = lift(w.kernel, 1)
	out.strides = lift(w.strides, 1)
	out.dilations = lift(w.dilations, 1)
	if len(w.pads) == 2 {
		out.pads = []int{0, w.pads[0], 0, w.pads[1]}
	}
	return out
}

// convOperands checks the data and weight inputs of Conv and ConvTranspose
// and views them as 2-D (N,C,H,W) whatever their spatial rank.
func convOperands(in []*Tensor, op string) (x, w *Tensor, xs, ws []int, oneD bool, err error) {
	if x, err = floatIn(in, 0, "X"); err != nil {
		return
	}
	if w, err = floatIn(in, 1, "W"); err != nil {
		return
	}
	xs, oneD = as2d(x.Shape)
	ws, _ = as2d(w.Shape)
	if len(xs) != 4 || len(ws) != 4 {
		err = fmt.Errorf("%w: %s on input %v with weight %v (only 1-D and 2-D)", ErrUnsupported, op, x, w)
	}
	return
}

// convArgs are a Conv's checked inputs and window.
type convArgs struct {
	x, w *Tensor
	b    *Tensor // nil without a bias
	xs   []int   // input shape as 2-D (N,C,H,W)
	oneD bool
	g    geom2d
	n, m int // samples, output channels
}

// bias returns the bias values, nil without one.
func (a convArgs) bias() []float32 {
	if a.b == nil {
		return nil
	}
	return a.b.Data
}

// operands checks Conv's inputs and resolves its window.
func (c *conv) operands(in []*Tensor) (a convArgs, err error) {
	var ws []int
	if a.x, a.w, a.xs, ws, a.oneD, err = convOperands(in, "Conv"); err != nil {
		return a, err
	}
	a.n, a.m = a.xs[0], ws[0]
	if !c.channelsMatch(a.xs, ws) {
		return a, fmt.Errorf("input has %d channels and weight %v with group %d wants %d", a.xs[1], ws, c.group, ws[1]*c.group)
	}
	if a.g, err = c.geometry(a.xs, ws, a.oneD); err != nil {
		return a, err
	}
	a.b, err = biasIn(in, a.m)
	return a, err
}

// channelsMatch reports whether an input of shape xs and weights of shape
// ws agree with c's group count: xs's channels are the weights' input
// channels times the groups, and the output channels split into groups.
func (c *conv) channelsMatch(xs, ws []int) bool {
	return xs[1] == ws[1]*c.group && ws[0]%c.group == 0
}

// biasIn reads the optional bias input (2) of Conv and ConvTranspose: nil
// where it is absent, an error unless it has m values.
func biasIn(in []*Tensor, m int) (*Tensor, error) {
	if len(in) <= 2 || in[2] == nil {
		return nil, nil
	}
	b, err := floatIn(in, 2, "B")
	if err != nil {
		return nil, err
	}
	if b.Len() != m {
		return nil, fmt.Errorf("bias has %d values for %d output channels", b.Len(), m)
	}
	return b, nil
}

func (c *conv) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, err := c.operands(in)
	if err != nil {
		return nil, err
	}
	x, w, b, xs, g, n, m, oneD := a.x, a.w, a.b, a.xs, a.g, a.n, a.m, a.oneD
	if err := s.fits(n, m, g.oh, g.ow); err != nil {
		return nil, err
	}
	if err := s.fits(g.colRows(), g.oh, g.ow); err != nil {
		return nil, fmt.Errorf("the unfolded input: %w", err)
	}
	ohw := g.oh * g.ow
	y := s.alloc(false, n, m, g.oh, g.ow)
	if canDirect(s.Kernels, g) {
		mg := m / c.group
		plan := planDirect(s, g, w.Data, a.bias(), mg, c.group, c.relu)
		defer plan.release(s)
		c.directSamples(s, plan, a, 0, func(i, gr int, img, scratch []float32) {
			plan.run(y.Data[(i*c.group+gr)*mg*ohw:][:mg*ohw], img, scratch, gr)
		})
	} else {
		c.im2colForward(s, a, y)
	}
	s.Save(x, w, y)
	s.SetAux(convSaved{g: g, xs: xs, hasB: b != nil})
	if oneD {
		y.Shape = []int{n, m, g.ow}
	}
	return []*Tensor{y}, nil
}

// im2colForward is Forward where the direct kernel does not run: im2col
// and a matrix multiply per sample and group, then bias and Relu.
func (c *conv) im2colForward(s *State, a convArgs, y *Tensor) {
	x, w, b, xs, g, n, m := a.x, a.w, a.b, a.xs, a.g, a.n, a.m
	ohw := g.oh * g.ow
	mg, k := m/c.group, g.colRows()
	workers, mul := s.sampleWorkers(n)
	cols := make([][]float32, workers)
	for wk := range cols {
		cols[wk] = s.scratch(k * ohw)
	}
	defer putAll(s.Buffers, cols)
	forSamples(n, workers, false, func(wk, i int) {
		for gr := 0; gr < c.group; gr++ {
			img := x.Data[(i*xs[1]+gr*g.c)*g.h*g.w:][:g.c*g.h*g.w]
			im2col(cols[wk], img, g)
			out := y.Data[(i*m+gr*mg)*ohw:][:mg*ohw]
			mul(false, false, mg, ohw, k, 1, w.Data[gr*mg*k:][:mg*k], cols[wk], 0, out)
		}
		// Bias and Relu while the sample's output is still in cache.
		for o := 0; o < m; o++ {
			row := y.Data[(i*m+o)*ohw:][:ohw]
			var bv float32
			if b != nil {
				bv = b.Data[o]
			}
			switch {
			case c.relu:
				for j, v := range row {
					row[j] = max(v+bv, 0)
				}
			case b != nil:
				for j := range row {
					row[j] += bv
				}
			}
		}
	})
}

func (c *conv) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	x, w, y := s.Saved(0), s.Saved(1), s.Saved(2)
	a := s.Aux().(convSaved)
	g, xs := a.g, a.xs
	n, m := xs[0], w.Shape[0]
	mg, k, ohw := m/c.group, g.colRows(), g.oh*g.ow
	// An attack wants no dW and training no dX of the first layer; each
	// is half the backward pass.
	needX, needW, needB := s.Needs(0), s.Needs(1), a.hasB && s.Needs(2)
	grads := make([]*Tensor, 2, 3)
	// With unit strides, dX is itself a convolution, of dY by the flipped
	// weights. Its im2col copies mg·kh·kw rows of h·w values where col2im
	// adds g.c·kh·kw rows of oh·ow into dX, and an add into scattered
	// memory costs some two copies (on the CIFAR benchmark's layers): it
	// wins unless the layer has many more outputs than inputs, as a
	// network's first layer does.
	flip := needX && g.sh == 1 && g.sw == 1 && mg*g.h*g.w <= 2*g.c*ohw
	// The direct kernel needs neither im2col nor col2im: the flipped
	// convolution always wins where it runs.
	direct := needX && g.sh == 1 && g.sw == 1 && canDirect(s.Kernels, g.flipped(mg))
	flip = flip || direct
	var gf geom2d
	var wf []float32
	var plan *directPlan
	var padded [][]float32
	if flip {
		gf = g.flipped(mg)
		wf = s.scratch(w.Len())
		defer s.Buffers.Put(wf)
		flipWeights(wf, w.Data, c.group, mg, g)
		if direct {
			plan = planDirect(s, gf, wf, nil, g.c, c.group, false)
			defer plan.release(s)
		}
	}
	if needX { // the flipped product writes every element, col2im adds
		grads[0] = s.alloc(!flip, x.Shape...)
	}
	kf, hw := gf.colRows(), g.h*g.w
	workers, mul := s.sampleWorkers(n)
	cols := make([][]float32, workers)
	masked := make([][]float32, workers) // a sample's dY through the fused Relu
	// Each worker's share of dW and dB, summed below in worker order.
	dws, dbs := make([][]float32, workers), make([][]float32, workers)
	if needW {
		grads[1] = like(w)
		dws[0] = grads[1].Data
	}
	if needB {
		grads = append(grads, NewFloat(m))
		dbs[0] = grads[2].Data
	}
	// The weight gradient on the direct kernel reads the padded input
	// the forward pass read, and dY, with neither im2col nor a product.
	var wplan *directPlan
	var wpad, wrows, wsums [][]float32
	if needW && canDirect(s.Kernels, g) {
		wplan = planDirect(s, g, nil, nil, mg, c.group, false)
		wpad, wrows, wsums = make([][]float32, workers), make([][]float32, workers), make([][]float32, workers)
	}
	if direct {
		padded = make([][]float32, workers)
	}
	for wk := range workers {
		if wplan != nil {
			wpad[wk], wrows[wk], wsums[wk] = s.scratch(wplan.scratchLen()), s.scratch(8*ohw), s.scratch(wplan.gradSums())
		}
		switch {
		case needW && wplan == nil && !direct:
			cols[wk] = s.scratch(max(k*ohw, kf*hw))
		case needW && wplan == nil:
			cols[wk] = s.scratch(k * ohw)
		case !direct && needX:
			cols[wk] = s.scratch(max(k*ohw, kf*hw))
		}
		if direct {
			padded[wk] = s.scratch(plan.scratchLen())
		}
		if c.relu {
			masked[wk] = s.scratch(m * ohw)
		}
		if wk > 0 && needW {
			dws[wk] = s.Buffers.Get(w.Len(), true)
		}
		if wk > 0 && needB {
			dbs[wk] = make([]float32, m)
		}
	}
	defer putAll(s.Buffers, cols, masked, dws[1:], padded, wpad, wrows, wsums)
	forSamples(n, workers, needW || needB, func(wk, i int) {
		dyi := dy[0].Data[i*m*ohw:][:m*ohw]
		if c.relu {
			reluGrad(s.Kernels, masked[wk], dyi, y.Data[i*m*ohw:][:m*ohw])
			dyi = masked[wk]
		}
		if needB {
			for o := range m {
				dbs[wk][o] += sumFloats(s.Kernels, dyi[o*ohw:][:ohw])
			}
		}
		for gr := 0; gr < c.group; gr++ {
			off := (i*xs[1] + gr*g.c) * hw
			gy := dyi[gr*mg*ohw:][:mg*ohw]
			switch {
			case wplan != nil: // dW += dY ⋆ x
				wplan.gradW(dws[wk][gr*mg*k:][:mg*k], gy, x.Data[off:off+g.c*hw], wpad[wk], wrows[wk], wsums[wk])
			case needW: // dW += dY · colsᵀ
				im2col(cols[wk], x.Data[off:off+g.c*hw], g)
				mul(false, true, mg, k, ohw, 1, gy, cols[wk], 1, dws[wk][gr*mg*k:][:mg*k])
			}
			switch {
			case direct: // dX = W̃ ⋆ dY
				plan.run(grads[0].Data[off:off+g.c*hw], gy, padded[wk], gr)
			case flip: // dX = W̃ · im2col(dY)
				im2col(cols[wk], gy, gf)
				mul(false, false, g.c, hw, kf, 1, wf[gr*g.c*kf:][:g.c*kf], cols[wk], 0, grads[0].Data[off:off+g.c*hw])
			case needX: // dX = col2im(Wᵀ · dY)
				mul(true, false, k, ohw, mg, 1, w.Data[gr*mg*k:][:mg*k], gy, 0, cols[wk])
				col2im(grads[0].Data[off:off+g.c*hw], cols[wk], g)
			}
		}
	})
	addParts(dws)
	addParts(dbs)
	return grads, nil
}

// directSamples runs each(i, gr, img, scratch) for every sample i and
// group gr on the direct kernel's workers, img the group's input and
// scratch the worker's, of the plan's scratchLen plus extra.
func (c *conv) directSamples(s *State, plan *directPlan, a convArgs, extra int, each func(i, gr int, img, scratch []float32)) {
	workers := min(a.n, runtime.GOMAXPROCS(0))
	scratch := make([][]float32, workers)
	for wk := range scratch {
		scratch[wk] = s.scratch(plan.scratchLen() + extra)
	}
	defer putAll(s.Buffers, scratch)
	chw := a.g.c * a.g.h * a.g.w
	forSamples(a.n, workers, false, func(wk, i int) {
		for gr := range c.group {
			each(i, gr, a.x.Data[(i*c.group+gr)*chw:][:chw], scratch[wk])
		}
	})
}

// flipWeights writes to wf, for each group, the weights of the convolution
// that maps dY to dX at unit stride: g.c rows of mg·kh·kw, input and output
// channels swapped and each kernel turned 180°.
func flipWeights(wf, w []float32, group, mg int, g geom2d) {
	khw := g.kh * g.kw
	for gr := range group {
		for o := range mg {
			for ci := range g.c {
				src := w[((gr*mg+o)*g.c+ci)*khw:][:khw]
				dst := wf[((gr*g.c+ci)*mg+o)*khw:][:khw]
				for j := range dst {
					dst[j] = src[khw-1-j]
				}
			}
		}
	}
}

// addParts adds each worker's share of a sum (dW, dB) into the first
// worker's, in worker order so that the result is the same every run; nil
// shares (a gradient not wanted) add nothing.
func addParts(parts [][]float32) {
	for _, part := range parts[1:] {
		for j, v := range part {
			parts[0][j] += v
		}
	}
}

// putAll gives back each worker's scratch.
func putAll(b *Buffers, sets ...[][]float32) {
	for _, set := range sets {
		for _, buf := range set {
			b.Put(buf)
		}
	}
}

// sumFloats returns the sum of x, on the vector kernel where the node
// takes them.
func sumFloats(kernels bool, x []float32) float32 {
	if kernels {
		return kernel.Sum(x)
	}
	return sum4(x)
}
