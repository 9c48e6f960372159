package ops

import "sort"

// The convolution planner. A Conv of a given window (geometry, groups,
// output channels) runs on one forward strategy and, backward, one
// strategy for its input's gradient and one for its weights'; each is a
// type in its own file (convim2col.go, convdirect.go, ...), registered
// with registerConvStrategy and tested against the plain im2col product.
// The planner picks, for each part, the registered strategy of lowest
// rank that takes the window. A Conv plans once per window it sees: the
// first time is the executor's dry run at compile time, so a model's
// convolutions are planned before data flows.

// convKey is what a plan depends on.
type convKey struct {
	g     geom2d
	group int
	m     int // output channels, all groups
	// kernels says the node takes the vector kernels' paths
	// (State.Kernels), where the direct strategies may run.
	kernels bool
}

// mg is the output channels per group.
func (k convKey) mg() int { return k.m / k.group }

// A convForward computes a Conv's output for the whole batch, bias and
// fused Relu included.
type convForward interface {
	forward(s *State, a convArgs, y *Tensor)
}

// A convGradient computes one of a Conv's gradients (its input's or its
// weights'), driven by convBackward: group by group of each sample, a
// sample at a time, or the whole batch at once (the steps below).
type convGradient interface {
	// begin readies one backward pass on workers goroutines, mul the
	// matrix multiply each worker calls.
	begin(s *State, a convArgs, workers int, mul gemmFunc) convStep
}

// A convStep is one backward pass of a convGradient: a convGroupStep,
// which convBackward drives group by group of each sample, a
// convSampleStep, a sample at a time, or a convBatchStep, the whole
// batch at once.
type convStep interface {
	// release gives back the scratch begin took.
	release(s *State)
}

// A convGroupStep computes a sample's part one group at a time.
type convGroupStep interface {
	convStep
	// group computes group gr of one sample on worker wk: for the input's
	// gradient dst is the group's dX (written whole), for the weights'
	// the worker's share of the group's dW (added to); dy is the group's
	// output gradient and x its input.
	group(wk, gr int, dst, dy, x []float32)
}

// A convSampleStep computes a whole sample at once, every group together
// (a layout across channels).
type convSampleStep interface {
	convStep
	// sample computes one sample's part on worker wk: for the input's
	// gradient dst is the sample's dX (written whole), for the weights'
	// the worker's dW (added to); dy is the sample's dY and x its input.
	sample(wk int, dst, dy, x []float32)
}

// A convBatchStep computes the whole batch's part at once, where the
// batch is one dimension of a matrix product (convbatch.go).
type convBatchStep interface {
	convStep
	// batch computes the batch's part: dX or dW, written whole (no other
	// part adds to a dW the batch computes); dy is the batch's output
	// gradient, through the fused Relu, Clip or gate.
	batch(s *State, a convArgs, dst, dy []float32)
}

// A rawBatchStep is a dX step that also computes a few of dX's elements
// for the whole batch, before its groups or samples run (the pixels a
// 1×1 plan leaves, convpointrest.go): it reads dY as it is and takes the
// elements it reads through the fused Relu, Clip or gate itself
// (convArgs.throughAt), so that no pass makes the whole batch's dY first.
type rawBatchStep interface {
	convStep
	rawBatch(s *State, a convArgs, dst, dy []float32)
}

// gemmFunc is the signature of gemm and gemmSerial.
type gemmFunc = func(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32)

// convStrategy is a registered way to run convolutions: each function
// returns its part for window k, or nil where the strategy does not take
// k (a nil function takes no window).
type convStrategy struct {
	name string
	rank int // lower ranks are tried first
	// vector marks a strategy that takes windows only on the vector
	// kernels (State.Kernels: AVX-512F, not KernelsOff).
	vector     bool
	forward    func(k convKey) convForward
	inputGrad  func(k convKey) convGradient
	weightGrad func(k convKey) convGradient
}

var convStrategies []convStrategy

// registerConvStrategy adds a strategy; called from init functions, one
// per strategy file.
func registerConvStrategy(s convStrategy) {
	convStrategies = append(convStrategies, s)
	sort.SliceStable(convStrategies, func(i, j int) bool { return convStrategies[i].rank < convStrategies[j].rank })
}

// convPlan is what the planner chose for one window, with the names of
// the strategies for tests and benchmarks.
type convPlan struct {
	key                     convKey
	fwd                     convForward
	dx, dw                  convGradient
	fwdName, dxName, dwName string
	fwdVector               bool // the forward strategy is a vector one
}

// planConv picks each part's strategy for window k. The im2col strategy
// takes every window, so every part finds one.
func planConv(k convKey) *convPlan {
	p := &convPlan{key: k}
	for _, s := range convStrategies {
		if p.fwd == nil && s.forward != nil {
			if p.fwd = s.forward(k); p.fwd != nil {
				p.fwdName, p.fwdVector = s.name, s.vector
			}
		}
		if p.dx == nil && s.inputGrad != nil {
			if p.dx = s.inputGrad(k); p.dx != nil {
				p.dxName = s.name
			}
		}
		if p.dw == nil && s.weightGrad != nil {
			if p.dw = s.weightGrad(k); p.dw != nil {
				p.dwName = s.name
			}
		}
	}
	return p
}

// planFor returns c's plan for window k: the one it made last, where the
// window is the same, or a new one.
func (c *conv) planFor(k convKey) *convPlan {
	if p := c.plan; p != nil && p.key == k {
		return p
	}
	c.plan = planConv(k)
	return c.plan
}
