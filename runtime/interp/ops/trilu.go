package ops

import "fmt"

func init() { register("Trilu", 14, newTrilu) }

// trilu keeps, in each matrix of the last two axes, the elements on and
// above (upper = 1) or on and below (upper = 0) the k-th diagonal, k from
// an optional second input; the rest become 0. The gradient is dy under
// the same mask.
type trilu struct{ upper bool }

func newTrilu(n *Node) (Op, error) {
	u, err := n.Int("upper", 1)
	if err != nil {
		return nil, err
	}
	if u != 0 && u != 1 {
		return nil, fmt.Errorf("Trilu: upper %d, want 0 or 1", u)
	}
	return trilu{upper: u == 1}, nil
}

// keep reports whether the element at row i, column j survives.
func (o trilu) keep(i, j int, k int64) bool {
	if o.upper {
		return int64(j)-int64(i) >= k
	}
	return int64(j)-int64(i) <= k
}

func (o trilu) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	x := in[0]
	if x.Rank() < 2 {
		return nil, fmt.Errorf("Trilu: input %v needs at least two axes", x)
	}
	var k int64
	if len(in) > 1 && in[1] != nil {
		var err error
		if k, err = scalarInt(in, 1, "k"); err != nil {
			return nil, err
		}
	}
	rows, cols := x.Shape[x.Rank()-2], x.Shape[x.Rank()-1]
	if x.IsInt() {
		y := NewInts(append([]int(nil), x.Shape...), make([]int64, len(x.Ints)))
		o.mask(y.Ints, x.Ints, rows, cols, k)
		return []*Tensor{y}, nil
	}
	y := like(x)
	o.mask(y.Data, x.Data, rows, cols, k)
	s.SetAux(k)
	return []*Tensor{y}, nil
}

func (o trilu) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	k, ok := s.Aux().(int64)
	if !ok {
		return nil, fmt.Errorf("Trilu: backward without a float forward pass")
	}
	g := dy[0]
	dx := like(g)
	o.mask(dx.Data, g.Data, g.Shape[g.Rank()-2], g.Shape[g.Rank()-1], k)
	return []*Tensor{dx, nil}, nil
}

// mask copies the kept elements of every rows×cols matrix of src into dst,
// which starts zeroed.
func (o trilu) mask(dst, src any, rows, cols int, k int64) {
	switch d := dst.(type) {
	case []float32:
		maskInto(d, src.([]float32), rows, cols, func(i, j int) bool { return o.keep(i, j, k) })
	case []int64:
		maskInto(d, src.([]int64), rows, cols, func(i, j int) bool { return o.keep(i, j, k) })
	}
}

func maskInto[T float32 | int64](dst, src []T, rows, cols int, keep func(i, j int) bool) {
	plane := rows * cols
	for p := 0; p+plane <= len(src) && plane > 0; p += plane {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				if keep(i, j) {
					dst[p+i*cols+j] = src[p+i*cols+j]
				}
			}
		}
	}
}
