package ops

// ConvPlanned is an op whose forward pass the convolution planner
// assigned a strategy: a Conv, or a Conv fused with its pool. Callers
// that choose between engines read it (interp.Program.ConvStrategies).
type ConvPlanned interface {
	// ConvStrategy names the forward strategy ("direct", "depthwise",
	// "im2col", ...), or "" before the op has seen a window.
	ConvStrategy() string
}

// ConvStrategy names the strategy planned for the last window seen.
func (c *conv) ConvStrategy() string {
	if c.plan == nil {
		return ""
	}
	return c.plan.fwdName
}

// ConvStrategy is "direct": a fused Conv and pool runs on the direct
// kernel only (fusePool).
func (*convPool) ConvStrategy() string { return "direct" }
