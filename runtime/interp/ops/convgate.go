package ops

// A Conv whose output only a gate reads (SiLU after every convolution of
// EfficientNet, HardSwish in MobileNet-V3 at opsets before 14) takes the
// gate in. The forward pass runs the gate over the Conv's output in place
// and keeps dy/dx, as the gate alone would; the backward pass multiplies
// each sample's dY by it while the Conv reads that sample (convBackward),
// where the gate alone wrote dZ for the whole batch, a pass over memory
// that the Conv's backward then read again.
func init() {
	for _, then := range []string{"Sigmoid", "HardSigmoid"} { // the gate fusions keep their first node's type (gate.go)
		registerFusion(Fusion{Name: "Conv+" + then + " gate", First: "Conv", Then: then,
			Join: func(first, then Op, _ [][]int, _ bool) (Op, bool) {
				c, ok := first.(*conv)
				g, gated := then.(gate)
				if !ok || !gated || c.relu || c.clip != nil || c.gate != nil {
					return nil, false
				}
				f := *c
				f.gate = &g
				return &f, true
			}})
	}
}

// gateSlope returns the tensor for the folded gate's dy/dx over the
// Conv's output y, which the backward pass reads: nil where the Conv has
// no gradient to compute.
func (c *conv) gateSlope(s *State, y *Tensor) *Tensor {
	// Needs is true past the inputs there are: the bias counts only
	// where there is one.
	if s.Grad && (s.Needs(0) || s.Needs(1) || len(s.Need) > 2 && s.Need[2]) {
		return s.alloc(false, y.Shape...)
	}
	return nil
}
