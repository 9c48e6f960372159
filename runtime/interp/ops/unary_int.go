package ops

// signedUnary is a unaryOp that also accepts integer tensors (Neg and Abs
// appear in shape arithmetic); integers have no gradient.
type signedUnary struct {
	unaryOp
	fi func(x int64) int64
}

func (u signedUnary) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil || !in[0].IsInt() {
		return u.unaryOp.Forward(s, in)
	}
	x := in[0]
	y := NewInts(append([]int(nil), x.Shape...), make([]int64, len(x.Ints)))
	for i, v := range x.Ints {
		y.Ints[i] = u.fi(v)
	}
	return []*Tensor{y}, nil
}

func signed(u signedUnary) constructor { return func(*Node) (Op, error) { return u, nil } }
