package ops

// unaryOp is an elementwise operator y = f(x) whose derivative is known in
// terms of x and y, so one type serves Sigmoid, Tanh, Exp and the rest; each
// operator's own file registers it with its formulas.
type unaryOp struct {
	f  func(x float32) float32
	df func(x, y float32) float32 // dy/dx
}

func (u unaryOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := like(x)
	for i, v := range x.Data {
		y.Data[i] = u.f(v)
	}
	s.Save(x, y)
	return []*Tensor{y}, nil
}

func (u unaryOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	x, y := s.Saved(0), s.Saved(1)
	dx := like(x)
	for i, g := range dy[0].Data {
		dx.Data[i] = g * u.df(x.Data[i], y.Data[i])
	}
	return []*Tensor{dx}, nil
}

// unary returns a constructor for an attribute-free elementwise operator.
func unary(f func(x float32) float32, df func(x, y float32) float32) constructor {
	return func(*Node) (Op, error) { return unaryOp{f, df}, nil }
}
