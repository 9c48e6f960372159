package ops

func init() { register("LeakyRelu", 6, newLeakyRelu) }

// leakyRelu has its own loops rather than unaryOp's closures: it follows
// every convolution in YOLO-style detectors.
type leakyRelu struct{ alpha float32 }

func newLeakyRelu(n *Node) (Op, error) {
	alpha, err := n.Float("alpha", 0.01)
	return leakyRelu{alpha}, err
}

func (l leakyRelu) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := like(x)
	for i, v := range x.Data {
		if v < 0 {
			v *= l.alpha
		}
		y.Data[i] = v
	}
	s.Save(x)
	return []*Tensor{y}, nil
}

func (l leakyRelu) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	x := s.Saved(0)
	dx := like(x)
	for i, g := range dy[0].Data {
		if x.Data[i] <= 0 {
			g *= l.alpha
		}
		dx.Data[i] = g
	}
	return []*Tensor{dx}, nil
}
