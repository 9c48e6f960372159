package interp

import "github.com/onnxguard/onnxguard/runtime/interp/ops"

// ConvStrategies returns, for each convolution of the compiled program in
// execution order, the strategy its forward pass runs on ("direct",
// "rows", "phases" and "pixels" for the vector kernels, "depthwise", "im2col",
// ...). Compile's dry run plans every convolution, so the answer depends
// on the model and on this machine's kernels, not on load. A model
// without convolutions gives none.
func (p *Program) ConvStrategies() []string {
	var s []string
	for _, c := range p.ConvPlans() {
		s = append(s, c.Strategy)
	}
	return s
}

// ConvPlan is how one convolution of a compiled program runs.
type ConvPlan struct {
	Strategy string // as ConvStrategies reports it
	OnInput  bool   // it reads the model's input: a stem
	// Kernels: the strategy runs on the interpreter's vector kernels
	// (AVX-512F), where it does run.
	Kernels bool
}

// ConvPlans returns the plan of each convolution in execution order.
func (p *Program) ConvPlans() []ConvPlan {
	var s []ConvPlan
	for _, nd := range p.nodes {
		parts := []ops.ConvPlanned(nil)
		switch c := nd.op.(type) {
		case ops.ConvChained:
			parts = c.ConvParts()
		case ops.ConvPlanned:
			parts = append(parts, c)
		}
		for k, c := range parts {
			onInput := k == 0 && len(nd.in) > 0 && nd.in[0] == p.input
			s = append(s, ConvPlan{Strategy: c.ConvStrategy(), OnInput: onInput, Kernels: c.ConvOnKernels()})
		}
	}
	return s
}
