package ops

import "fmt"

func init() { register("Gather", 1, newGather) } // negative indices (opset 11) are accepted at every opset

// gatherOp picks entries along axis by index: float data for embeddings
// and the like, int64 data for the shape arithmetic exporters emit.
type gatherOp struct{ axis int64 }

func newGather(n *Node) (Op, error) {
	axis, err := n.Int("axis", 0)
	return gatherOp{axis}, err
}

// gatherSaved is what Gather's backward pass needs.
type gatherSaved struct {
	shape           []int
	idx             []int // resolved to [0, d)
	outer, d, inner int   // rows before the axis, its length, values after it
}

func (g gatherOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	raw, ok := intsIn(in, 1)
	if !ok {
		return nil, fmt.Errorf("input 1 (indices) is missing")
	}
	axis, err := normAxis(g.axis, x.Rank())
	if err != nil {
		return nil, err
	}
	d := x.Shape[axis]
	idx := make([]int, len(raw))
	for i, v := range raw {
		if v < -int64(d) || v >= int64(d) {
			return nil, fmt.Errorf("index %d out of range for axis %d of size %d", v, axis, d)
		}
		if v < 0 {
			v += int64(d)
		}
		idx[i] = int(v)
	}
	shape := append(append(append([]int{}, x.Shape[:axis]...), in[1].Shape...), x.Shape[axis+1:]...)
	sv := gatherSaved{shape: x.Shape, idx: idx, outer: Numel(x.Shape[:axis]), d: d, inner: Numel(x.Shape[axis+1:])}
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	y := zerosOfKind(x, shape)
	if x.IsInt() {
		gatherRows(y.Ints, x.Ints, sv)
	} else {
		gatherRows(y.Data, x.Data, sv)
	}
	s.SetAux(sv)
	return []*Tensor{y}, nil
}

func gatherRows[T tensorValue](dst, src []T, g gatherSaved) {
	m, d, w := len(g.idx), g.d, g.inner
	for o := 0; o < g.outer; o++ {
		for j, i := range g.idx {
			copy(dst[(o*m+j)*w:][:w], src[(o*d+i)*w:][:w])
		}
	}
}

// Backward adds each output row back into the row it came from, so an
// index that repeats collects every contribution.
func (gatherOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	if dy[0] == nil || dy[0].IsInt() {
		return []*Tensor{nil, nil}, nil
	}
	g := s.Aux().(gatherSaved)
	dx := NewFloat(g.shape...)
	m, d, w := len(g.idx), g.d, g.inner
	for o := 0; o < g.outer; o++ {
		for j, i := range g.idx {
			dst, src := dx.Data[(o*d+i)*w:][:w], dy[0].Data[(o*m+j)*w:][:w]
			for k, v := range src {
				dst[k] += v
			}
		}
	}
	return []*Tensor{dx, nil}, nil
}
