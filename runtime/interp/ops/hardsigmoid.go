package ops

func init() { register("HardSigmoid", 6, newHardSigmoid) }

// newHardSigmoid builds y = max(0, min(1, alpha·x + beta)).
func newHardSigmoid(n *Node) (Op, error) {
	alpha, err := n.Float("alpha", 0.2)
	if err != nil {
		return nil, err
	}
	beta, err := n.Float("beta", 0.5)
	if err != nil {
		return nil, err
	}
	return unaryOp{
		f: func(x float32) float32 { return max(0, min(1, alpha*x+beta)) },
		df: func(x, y float32) float32 {
			if v := alpha*x + beta; v > 0 && v < 1 {
				return alpha
			}
			return 0
		},
	}, nil
}
