package ops

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

func init() { register("Conv", 1, newConv) }

// conv is a grouped 2-D convolution, run on the strategies the planner
// picks for its window (convplan.go); 1-D convolutions run as 2-D with
// height 1.
type conv struct {
	win   window
	group int
	relu  bool        // a Relu on the output folded in by fuseRelu
	clip  *[2]float32 // a Clip's bounds folded in (convclip.go), nil without
	gate  *gate       // a gate folded in (convgate.go), nil without
	plan  *convPlan   // the planner's choice for the last window seen (convplan.go)
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
	x, w    *Tensor
	b       *Tensor // nil without a bias
	xs      []int   // input shape as 2-D (N,C,H,W)
	oneD    bool
	g       geom2d
	n, m    int // samples, output channels
	group   int
	relu    bool     // the Relu folded in
	mask    reluMask // in a gradient pass, the folded Relu's or Clip's: where the gradient passes
	gated   *Tensor  // in a gradient pass, the folded gate's dy/dx
	kernels bool     // the node takes the vector kernels' paths (State.Kernels)
	// During a streaming strategy's forward pass, what follows its
	// kernels on the output (convepilogue.go); nil otherwise.
	epilogue *epilogue
}

// key is what the planner plans for.
func (a convArgs) key() convKey {
	return convKey{g: a.g, group: a.group, m: a.m, kernels: a.kernels}
}

// bias returns the bias values, nil without one.
func (a convArgs) bias() []float32 { return a.biasFrom(0) }

// biasFrom returns the biases of the channels from ch on, nil without a
// bias.
func (a convArgs) biasFrom(ch int) []float32 {
	if a.b == nil {
		return nil
	}
	return a.b.Data[ch:]
}

// operands checks Conv's inputs and resolves its window.
func (c *conv) operands(in []*Tensor) (a convArgs, err error) {
	var ws []int
	if a.x, a.w, a.xs, ws, a.oneD, err = convOperands(in, "Conv"); err != nil {
		return a, err
	}
	a.n, a.m, a.group, a.relu = a.xs[0], ws[0], c.group, c.relu
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
	a.kernels = s.Kernels
	g, n, m := a.g, a.n, a.m
	if err := s.fits(n, m, g.oh, g.ow); err != nil {
		return nil, err
	}
	if err := s.fits(g.colRows(), g.oh, g.ow); err != nil {
		return nil, fmt.Errorf("the unfolded input: %w", err)
	}
	y := s.alloc(false, n, m, g.oh, g.ow)
	fwd := c.planFor(a.key()).fwd
	e := c.epilogue(s, a, y)
	if st, ok := fwd.(streamer); ok && e != nil && st.streams(a) {
		a.epilogue = e
		fwd.forward(s, a, y)
		a.epilogue = nil
	} else {
		fwd.forward(s, a, y)
		if e != nil {
			e.whole()
		}
	}
	keepForBackward(s, a, e)
	if a.oneD {
		y.Shape = []int{n, m, g.ow}
	}
	return []*Tensor{y}, nil
}

// keepForBackward keeps in s what a Conv's backward pass reads: its
// operands a, with the mask or gate slopes its epilogue e took (e nil
// for none). The weight gradient alone reads x, and the folded Relu's
// backward one bit per output: an attack's pass keeps x only as a shape,
// and y not at all.
func keepForBackward(s *State, a convArgs, e *epilogue) {
	if e != nil {
		a.mask, a.gated = e.mask, e.slope
	}
	if s.Grad && !s.Needs(1) {
		a.x = &Tensor{Shape: a.x.Shape}
	}
	s.Save(a.x, a.w, a.gated) // a.gated nil without a gate: the executor skips nil
	s.SetAux(a)
}

func (c *conv) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(convArgs)
	if !ok {
		return nil, fmt.Errorf("Conv: backward without a forward pass")
	}
	return convBackward(s, c.planFor(a.key()), a, dy[0]), nil
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
