package ops

// ConvPlanned is an op whose forward pass the convolution planner
// assigned a strategy: a Conv, or a Conv fused with its pool. Callers
// that choose between engines read it (interp.Program.ConvStrategies).
type ConvPlanned interface {
	// ConvStrategy names the forward strategy ("direct", "depthwise",
	// "im2col", ...), or "" before the op has seen a window.
	ConvStrategy() string
	// ConvOnKernels reports whether that strategy is one of the vector
	// kernels' (direct, rows, phases, pixels, space to depth, batch
	// forward), which a CPU without AVX-512F, or a program compiled with
	// KernelsOff, does not take.
	ConvOnKernels() bool
}

// ConvChained is an op that runs more than one Conv (a 1×1 Conv and the
// depthwise Conv after it, convchain.go).
type ConvChained interface {
	// ConvParts are its Convs in execution order.
	ConvParts() []ConvPlanned
}

// ConvStrategy names the strategy planned for the last window seen.
func (c *conv) ConvStrategy() string {
	if c.plan == nil {
		return ""
	}
	return c.plan.fwdName
}

// ConvOnKernels reports whether the strategy planned for the last window
// seen runs on the vector kernels.
func (c *conv) ConvOnKernels() bool { return c.plan != nil && c.plan.fwdVector }

// ConvStrategy is "direct": a fused Conv and pool runs on the direct
// kernel only (fusePool).
func (*convPool) ConvStrategy() string { return "direct" }

// ConvOnKernels is true: the direct kernel is a vector one.
func (*convPool) ConvOnKernels() bool { return true }
