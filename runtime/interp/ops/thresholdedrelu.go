package ops

import "fmt"

func init() { register("ThresholdedRelu", 10, newThresholdedRelu) }

// newThresholdedRelu builds y = x where x > alpha, 0 elsewhere.
func newThresholdedRelu(n *Node) (Op, error) {
	alpha, err := n.Float("alpha", 1)
	if err != nil {
		return nil, err
	}
	if alpha != alpha {
		return nil, fmt.Errorf("ThresholdedRelu: alpha is NaN")
	}
	return unaryOp{
		f: func(x float32) float32 {
			if x > alpha {
				return x
			}
			return 0
		},
		df: func(x, y float32) float32 {
			if x > alpha {
				return 1
			}
			return 0
		},
	}, nil
}
