package ops

// compareOp is a broadcasting comparison (Equal, Greater, Less and the
// rest, each registered from its own file). Outputs are booleans stored as
// int64 0/1; comparisons are not differentiable.
type compareOp struct {
	f  func(a, b float64) bool
	fi func(a, b int64) bool
}

func comparison(f func(a, b float64) bool, fi func(a, b int64) bool) constructor {
	return func(*Node) (Op, error) { return compareOp{f, fi}, nil }
}

func (c compareOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, b, shape, err := broadcastPair(in)
	if err != nil {
		return nil, err
	}
	a, b = expandTensor(a, shape), expandTensor(b, shape)
	y := NewInts(shape, make([]int64, Numel(shape)))
	at := func(t *Tensor, i int) float64 {
		if t.IsInt() {
			return float64(t.Ints[i])
		}
		return float64(t.Data[i])
	}
	for i := range y.Ints {
		var yes bool
		if a.IsInt() && b.IsInt() {
			yes = c.fi(a.Ints[i], b.Ints[i])
		} else {
			yes = c.f(at(a, i), at(b, i))
		}
		if yes {
			y.Ints[i] = 1
		}
	}
	return []*Tensor{y}, nil
}

func (compareOp) Backward(*State, []*Tensor) ([]*Tensor, error) { return []*Tensor{nil, nil}, nil }
