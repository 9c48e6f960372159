package ops

// ArgMin: negative axes (11) and select_last_index (12) are read at every
// opset, as ArgMax's; both are argExtreme, ArgMin looking for the
// smallest value. Not differentiable.
func init() { register("ArgMin", 1, newArgMin) }

func newArgMin(n *Node) (Op, error) {
	op, err := newArgMax(n)
	if err != nil {
		return nil, err
	}
	a := op.(argMaxOp)
	a.smallest = true
	return a, nil
}
