package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

func init() { register("HardSigmoid", 6, newHardSigmoid) }

// hardSigmoid is y = max(0, min(1, alpha·x + beta)). Its derivative reads
// x alone, so a gradient pass keeps x, not y.
type hardSigmoid struct {
	unaryOp
	alpha, beta float32
}

func newHardSigmoid(n *Node) (Op, error) {
	alpha, err := n.Float("alpha", 0.2)
	if err != nil {
		return nil, err
	}
	beta, err := n.Float("beta", 0.5)
	if err != nil {
		return nil, err
	}
	h := hardSigmoid{alpha: alpha, beta: beta}
	h.unaryOp = unaryOp{f: h.f, df: func(x, _ float32) float32 { return h.df(x) }, skip: opY}
	return h, nil
}

func (h hardSigmoid) f(x float32) float32 { return kernel.HardSigmoid(float32(h.alpha*x) + h.beta) }

func (h hardSigmoid) df(x float32) float32 {
	if v := float32(h.alpha*x) + h.beta; v > 0 && v < 1 { // rounded as f rounds, never a fused multiply-add
		return h.alpha
	}
	return 0
}

// swishGate is the fused gate x·HardSigmoid(x), on the activation
// kernels, in the bits of the unfused HardSigmoid and Mul.
func (h hardSigmoid) swishGate() gate {
	return gate{run: func(ak kernel.ActKernels, y, d, x []float32) { ak.HardSwish(y, d, x, h.alpha, h.beta) }}
}
