package ops

import (
	"fmt"
	"slices"
	"sort"
)

// TopK took k as an attribute until opset 10, then as a second input;
// opset 11 added largest and sorted (read at every opset, defaults 1).
func init() {
	register("TopK", 1, newTopK(true))
	register("TopK", 10, newTopK(false))
}

// topK returns the k largest (or smallest) values along axis and their
// indices, best first; equal values keep their order. Values pass their
// gradient back to where they were taken from; indices have none.
type topK struct {
	axis          int64
	k             int64 // from the attribute; -1 when k is an input
	largest       bool
	sortedOutputs bool
}

func newTopK(kAttr bool) constructor {
	return func(n *Node) (Op, error) {
		o := &topK{k: -1}
		var err error
		if o.axis, err = n.Int("axis", -1); err != nil {
			return nil, err
		}
		if kAttr {
			if o.k, err = n.Int("k", -1); err != nil {
				return nil, err
			}
			if o.k < 0 {
				return nil, fmt.Errorf("TopK: attribute k %d, want ≥ 0 (it is required before opset 10)", o.k)
			}
		}
		for _, f := range []struct {
			name string
			dst  *bool
		}{{"largest", &o.largest}, {"sorted", &o.sortedOutputs}} {
			v, err := n.Int(f.name, 1)
			if err != nil {
				return nil, err
			}
			if v != 0 && v != 1 {
				return nil, fmt.Errorf("TopK: %s %d, want 0 or 1", f.name, v)
			}
			*f.dst = v == 1
		}
		return o, nil
	}
}

func (o *topK) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (X) is missing")
	}
	x := in[0]
	k := o.k
	if k < 0 {
		var err error
		if k, err = scalarInt(in, 1, "K"); err != nil {
			return nil, err
		}
	}
	a, err := normAxis(o.axis, x.Rank())
	if err != nil {
		return nil, err
	}
	d := x.Shape[a]
	if k < 0 || k > int64(d) {
		return nil, fmt.Errorf("TopK: k %d outside [0, %d], the size of axis %d", k, d, a)
	}
	outer, inner := Numel(x.Shape[:a]), Numel(x.Shape[a+1:])
	shape := slices.Clone(x.Shape)
	shape[a] = int(k)
	vals, idx := zerosOfKind(x, shape), NewInts(slices.Clone(shape), make([]int64, Numel(shape)))
	order := make([]int, d)
	less := func(i, j int) bool { return x.Data[i] > x.Data[j] }
	if x.IsInt() {
		less = func(i, j int) bool { return x.Ints[i] > x.Ints[j] }
	}
	pos := make([]int, len(idx.Ints))
	for b := 0; b < outer; b++ {
		for i := 0; i < inner; i++ {
			at := func(j int) int { return (b*d+j)*inner + i }
			for j := range order {
				order[j] = j
			}
			sort.SliceStable(order, func(p, q int) bool {
				if o.largest {
					return less(at(order[p]), at(order[q]))
				}
				return less(at(order[q]), at(order[p]))
			})
			for j := 0; j < int(k); j++ {
				dst := (b*int(k)+j)*inner + i
				idx.Ints[dst], pos[dst] = int64(order[j]), at(order[j])
			}
		}
	}
	if x.IsInt() {
		for j, p := range pos {
			vals.Ints[j] = x.Ints[p]
		}
		return []*Tensor{vals, idx}, nil
	}
	for j, p := range pos {
		vals.Data[j] = x.Data[p]
	}
	s.SetAux(positionsSaved{pos: pos, shape: slices.Clone(x.Shape)})
	return []*Tensor{vals, idx}, nil
}

func (o *topK) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{scatterBack(s, dy), nil}, nil
}
