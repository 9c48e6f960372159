package ops

import "fmt"

func init() { register("CumSum", 11, newCumSum) }

// cumSum sums x along an axis given as a second input: inclusive or, with
// exclusive, leaving the current element out; from the end with reverse.
// Its gradient is the cumulative sum of dy the other way round.
type cumSum struct{ exclusive, reverse bool }

func newCumSum(n *Node) (Op, error) {
	var flags [2]bool
	for i, name := range []string{"exclusive", "reverse"} {
		v, err := n.Int(name, 0)
		if err != nil {
			return nil, err
		}
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("CumSum: %s %d, want 0 or 1", name, v)
		}
		flags[i] = v == 1
	}
	return cumSum{exclusive: flags[0], reverse: flags[1]}, nil
}

// scalarInt reads input i, a tensor of one integer (a scalar or [1]).
func scalarInt(in []*Tensor, i int, what string) (int64, error) {
	if i >= len(in) || in[i] == nil {
		return 0, fmt.Errorf("input %d (%s) is missing", i, what)
	}
	if !in[i].IsInt() || len(in[i].Ints) != 1 {
		return 0, fmt.Errorf("input %d (%s) is %v, want one integer", i, what, in[i])
	}
	return in[i].Ints[0], nil
}

func (o cumSum) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (x) is missing")
	}
	x := in[0]
	axis, err := scalarInt(in, 1, "axis")
	if err != nil {
		return nil, err
	}
	a, err := normAxis(axis, x.Rank())
	if err != nil {
		return nil, err
	}
	outer, n, inner := Numel(x.Shape[:a]), x.Shape[a], Numel(x.Shape[a+1:])
	if x.IsInt() {
		y := NewInts(append([]int(nil), x.Shape...), make([]int64, len(x.Ints)))
		cumulate(y.Ints, x.Ints, outer, n, inner, o.exclusive, o.reverse)
		return []*Tensor{y}, nil
	}
	y := like(x)
	cumulate(y.Data, x.Data, outer, n, inner, o.exclusive, o.reverse)
	s.SetAux([3]int{outer, n, inner})
	return []*Tensor{y}, nil
}

func (o cumSum) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	d, ok := s.Aux().([3]int)
	if !ok {
		return nil, fmt.Errorf("CumSum: backward without a float forward pass")
	}
	dx := like(dy[0])
	cumulate(dx.Data, dy[0].Data, d[0], d[1], d[2], o.exclusive, !o.reverse)
	return []*Tensor{dx, nil}, nil
}

// cumulate writes the running sums of src along the middle axis of an
// outer×n×inner layout into dst.
func cumulate[T float32 | int64](dst, src []T, outer, n, inner int, exclusive, reverse bool) {
	for b := 0; b < outer; b++ {
		for i := 0; i < inner; i++ {
			var acc T
			for k := 0; k < n; k++ {
				j := k
				if reverse {
					j = n - 1 - k
				}
				at := (b*n+j)*inner + i
				if exclusive {
					dst[at] = acc
					acc += src[at]
				} else {
					acc += src[at]
					dst[at] = acc
				}
			}
		}
	}
}
