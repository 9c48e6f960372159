package ops

import "fmt"

func init() { register("ConvInteger", 10, newConvInteger) }

// convInteger convolves 8-bit x and w less their zero points (x's per
// tensor, w's per tensor or per output channel) into int32 sums: Conv, with
// its attributes, on the centred values, so padding reads the zero point.
// Gradients, straight through to x and w, are Conv's.
type convInteger struct{ conv Op }

func newConvInteger(n *Node) (Op, error) {
	c, err := newConv(n)
	if err != nil {
		return nil, err
	}
	return &convInteger{conv: c}, nil
}

func (o *convInteger) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := intOperand(in, 0, "x")
	if err != nil {
		return nil, err
	}
	w, err := intOperand(in, 1, "w")
	if err != nil {
		return nil, err
	}
	zx, _, _, err := zeroPoint(in, 2, x.Shape, -1)
	if err != nil {
		return nil, fmt.Errorf("x_zero_point: %w", err)
	}
	zw, dw, iw, err := zeroPoint(in, 3, w.Shape, 0)
	if err != nil {
		return nil, fmt.Errorf("w_zero_point: %w", err)
	}
	inner, acc, err := runInner(s, o.conv, centered(x, zx, 1, 1), centered(w, zw, dw, iw))
	if err != nil {
		return nil, err
	}
	s.SetAux(inner)
	return []*Tensor{toInt32(acc)}, nil
}

func (o *convInteger) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	inner, ok := s.Aux().(*innerState)
	if !ok {
		return nil, fmt.Errorf("ConvInteger: backward without a forward pass")
	}
	return inner.backward(s, dy[0], 4, 0, 1)
}
