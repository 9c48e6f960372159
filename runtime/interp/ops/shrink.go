package ops

import "fmt"

func init() { register("Shrink", 9, newShrink) }

// newShrink builds y = x + bias below −lambd, x − bias above lambd, and 0
// between (soft shrinkage with bias = lambd, hard with bias = 0).
func newShrink(n *Node) (Op, error) {
	bias, err := n.Float("bias", 0)
	if err != nil {
		return nil, err
	}
	lambd, err := n.Float("lambd", 0.5)
	if err != nil {
		return nil, err
	}
	if !finite(bias) || lambd != lambd {
		return nil, fmt.Errorf("Shrink: bias %g must be finite and lambd %g not NaN", bias, lambd)
	}
	return unaryOp{
		f: func(x float32) float32 {
			switch {
			case x < -lambd:
				return x + bias
			case x > lambd:
				return x - bias
			}
			return 0
		},
		df: func(x, y float32) float32 {
			if x < -lambd || x > lambd {
				return 1
			}
			return 0
		},
	}, nil
}
