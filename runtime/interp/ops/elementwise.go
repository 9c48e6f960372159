package ops

// unaryOp is an elementwise operator y = f(x) whose derivative is known in
// terms of x and y, so one type serves Sigmoid, Tanh, Exp and the rest; each
// operator's own file registers it with its formulas.
type unaryOp struct {
	f  func(x float32) float32
	df func(x, y float32) float32 // dy/dx
	// skip is what df does not read, of opA (x) and opY (y): a gradient
	// pass keeps only the rest (Sigmoid, Tanh and Exp keep y alone). The
	// zero value reads both.
	skip operands
}

func (u unaryOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := s.alloc(false, x.Shape...)
	forChunks(len(x.Data), 8, func(lo, hi int) {
		for i, v := range x.Data[lo:hi] {
			y.Data[lo+i] = u.f(v)
		}
	})
	xk, yk := x, y
	if u.skip&opA != 0 {
		xk = &Tensor{Shape: x.Shape}
	}
	if u.skip&opY != 0 {
		yk = &Tensor{Shape: y.Shape}
	}
	s.Save(xk, yk)
	return []*Tensor{y}, nil
}

func (u unaryOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	x, y := s.Saved(0), s.Saved(1)
	dx := s.alloc(false, x.Shape...)
	forChunks(len(dx.Data), 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dx.Data[i] = dy[0].Data[i] * u.df(at(x, nil, i), at(y, nil, i))
		}
	})
	return []*Tensor{dx}, nil
}

// unary returns a constructor for an attribute-free elementwise operator.
func unary(f func(x float32) float32, df func(x, y float32) float32) constructor {
	return func(*Node) (Op, error) { return unaryOp{f: f, df: df}, nil }
}

// unaryOfY is unary for an operator whose derivative reads y alone.
func unaryOfY(f func(x float32) float32, df func(y float32) float32) constructor {
	return func(*Node) (Op, error) {
		return unaryOp{f: f, df: func(_, y float32) float32 { return df(y) }, skip: opA}, nil
	}
}
