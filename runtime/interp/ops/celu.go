package ops

import (
	"fmt"
	"math"
)

func init() { register("Celu", 12, newCelu) }

// newCelu builds y = max(0,x) + min(0, α·(e^(x/α) − 1)).
func newCelu(n *Node) (Op, error) {
	alpha, err := n.Float("alpha", 1)
	if err != nil {
		return nil, err
	}
	if alpha == 0 || !finite(alpha) {
		return nil, fmt.Errorf("Celu: alpha %g must be finite and non-zero (x/alpha)", alpha)
	}
	a := float64(alpha)
	return unaryOp{
		f: func(x float32) float32 {
			if x > 0 {
				return x
			}
			return float32(a * math.Expm1(float64(x)/a))
		},
		df: func(x, y float32) float32 {
			if x > 0 {
				return 1
			}
			return float32(math.Exp(float64(x) / a))
		},
	}, nil
}

// finite reports whether v is neither infinite nor NaN.
func finite(v float32) bool { return !math.IsInf(float64(v), 0) && !math.IsNaN(float64(v)) }
