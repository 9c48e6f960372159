package ops

import "math"

func init() { register("Elu", 6, newElu) }

// newElu builds y = x for x > 0, alpha·(eˣ-1) otherwise.
func newElu(n *Node) (Op, error) {
	alpha, err := n.Float("alpha", 1)
	if err != nil {
		return nil, err
	}
	return unaryOp{
		f: func(x float32) float32 {
			if x > 0 {
				return x
			}
			return alpha * float32(math.Expm1(float64(x)))
		},
		df: func(x, y float32) float32 {
			if x > 0 {
				return 1
			}
			return y + alpha
		},
	}, nil
}
