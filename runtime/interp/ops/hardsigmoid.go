package ops

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

func (h hardSigmoid) f(x float32) float32 { return max(0, min(1, h.alpha*x+h.beta)) }

func (h hardSigmoid) df(x float32) float32 {
	if v := h.alpha*x + h.beta; v > 0 && v < 1 {
		return h.alpha
	}
	return 0
}

// swish is x·HardSigmoid(x) and its derivative, for the fused gate, with
// alpha·x + beta computed once.
func (h hardSigmoid) swish(x float32) (y, d float32) {
	v := h.alpha*x + h.beta
	g := max(0, min(1, v))
	d = g
	if v > 0 && v < 1 {
		d += x * h.alpha
	}
	return x * g, d
}
