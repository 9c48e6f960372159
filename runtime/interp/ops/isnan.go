package ops

import "fmt"

// IsNaN marks NaN elements with true (1); it has no gradient.
func init() { register("IsNaN", 9, func(*Node) (Op, error) { return floatTest{isNaN}, nil }) }

func isNaN(v float32) bool { return v != v }

// floatTest is a boolean test of every float element (IsNaN, IsInf).
type floatTest struct{ test func(float32) bool }

func (o floatTest) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := NewInts(append([]int(nil), x.Shape...), make([]int64, x.Len()))
	for i, v := range x.Data {
		if o.test(v) {
			y.Ints[i] = 1
		}
	}
	return []*Tensor{y}, nil
}

func (floatTest) Backward(*State, []*Tensor) ([]*Tensor, error) { return []*Tensor{nil}, nil }

// flag reads a 0/1 attribute.
func flag(n *Node, name string, def int64) (bool, error) {
	v, err := n.Int(name, def)
	if err != nil {
		return false, err
	}
	if v != 0 && v != 1 {
		return false, fmt.Errorf("%s: %s %d, want 0 or 1", n.OpType, name, v)
	}
	return v == 1, nil
}
