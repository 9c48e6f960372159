package ops

import "fmt"

// Hardmax sets 1 at the first largest value of each row and 0 elsewhere;
// rows are laid out as Softmax's (before opset 13 the flattened tail from
// axis, from 13 the one axis). It is piecewise constant, so its gradient is
// 0 wherever it exists, and that is what it passes back.
func init() {
	register("Hardmax", 1, newHardmax(false))
	register("Hardmax", 13, newHardmax(true))
}

type hardmax struct{ rowAxis }

func newHardmax(oneAxis bool) constructor {
	return func(n *Node) (Op, error) {
		ra, err := newRowAxis(n, oneAxis)
		return hardmax{ra}, err
	}
}

func (o hardmax) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "input")
	if err != nil {
		return nil, err
	}
	if x.Rank() == 0 {
		return nil, fmt.Errorf("Hardmax of a scalar: there is no axis")
	}
	r, err := o.rows(x.Shape)
	if err != nil {
		return nil, err
	}
	y := like(x)
	for b := 0; b < r.outer; b++ {
		for i := 0; i < r.inner; i++ {
			base := b*r.n*r.inner + i
			best := -1
			for j := 0; j < r.n; j++ {
				if v := x.Data[base+j*r.inner]; best < 0 || v > x.Data[base+best*r.inner] {
					best = j
				}
			}
			if best >= 0 {
				y.Data[base+best*r.inner] = 1
			}
		}
	}
	s.Save(x)
	return []*Tensor{y}, nil
}

func (hardmax) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{like(s.Saved(0))}, nil
}
