package ops

import "math"

func init() { register("Selu", 6, newSelu) }

// newSelu builds y = gamma·x for x > 0, gamma·alpha·(eˣ-1) otherwise; the
// defaults are the self-normalising constants, rounded as in the spec.
func newSelu(n *Node) (Op, error) {
	alpha, err := n.Float("alpha", 1.67326319217681884765625)
	if err != nil {
		return nil, err
	}
	gamma, err := n.Float("gamma", 1.05070102214813232421875)
	if err != nil {
		return nil, err
	}
	return unaryOp{
		f: func(x float32) float32 {
			if x > 0 {
				return gamma * x
			}
			return gamma * alpha * float32(math.Expm1(float64(x)))
		},
		df: func(x, y float32) float32 {
			if x > 0 {
				return gamma
			}
			return y + gamma*alpha
		},
	}, nil
}
