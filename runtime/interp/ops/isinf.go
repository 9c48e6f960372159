package ops

import "math"

// IsInf marks infinite elements with true (1), of either sign or only
// the ones detect_negative and detect_positive ask for; no gradient.
func init() { register("IsInf", 10, newIsInf) }

func newIsInf(n *Node) (Op, error) {
	neg, err := flag(n, "detect_negative", 1)
	if err != nil {
		return nil, err
	}
	pos, err := flag(n, "detect_positive", 1)
	if err != nil {
		return nil, err
	}
	return floatTest{func(v float32) bool {
		return neg && math.IsInf(float64(v), -1) || pos && math.IsInf(float64(v), 1)
	}}, nil
}
