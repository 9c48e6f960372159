package ops

func init() { register("Relu", 6, func(*Node) (Op, error) { return relu{}, nil }) }

type relu struct{}

func (relu) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := like(x)
	for i, v := range x.Data {
		y.Data[i] = max(v, 0)
	}
	s.Save(y)
	return []*Tensor{y}, nil
}

func (relu) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	y := s.Saved(0)
	dx := like(y)
	for i, g := range dy[0].Data {
		if y.Data[i] > 0 {
			dx.Data[i] = g
		}
	}
	return []*Tensor{dx}, nil
}
