package interp

import "github.com/onnxguard/onnxguard/runtime/interp/ops"

// ConvStrategies returns, for each convolution of the compiled program in
// execution order, the strategy its forward pass runs on ("direct" for
// the vector kernels, "depthwise", "im2col", ...). Compile's dry run plans
// every convolution, so the answer depends on the model and on this
// machine's kernels, not on load. A model without convolutions gives none.
func (p *Program) ConvStrategies() []string {
	var s []string
	for _, nd := range p.nodes {
		if c, ok := nd.op.(ops.ConvPlanned); ok {
			s = append(s, c.ConvStrategy())
		}
	}
	return s
}
