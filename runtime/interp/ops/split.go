package ops

import "fmt"

func init() {
	register("Split", 1, newSplitAttr) // sizes as the split attribute (at opset 1 also as input 1)
	register("Split", 13, newSplit)    // sizes became input 1; from opset 18 num_outputs may replace them
}

// splitOp cuts its input along axis into one piece per output: of the
// given sizes, or equal ones. With num_outputs (opset 18) the pieces are
// ceil(size/n) long and the last one may be shorter.
type splitOp struct {
	axis     int64
	sizes    []int64 // the split attribute, nil when absent
	outputs  int
	roundsUp bool // num_outputs was given
}

func newSplitAttr(n *Node) (Op, error) {
	axis, err := n.Int("axis", 0)
	if err != nil {
		return nil, err
	}
	sizes, err := n.Ints("split", nil)
	return splitOp{axis: axis, sizes: sizes, outputs: len(n.Outputs)}, err
}

func newSplit(n *Node) (Op, error) {
	axis, err := n.Int("axis", 0)
	if err != nil {
		return nil, err
	}
	op := splitOp{axis: axis, outputs: len(n.Outputs)}
	if n.Has("num_outputs") {
		k, err := n.Int("num_outputs", 0)
		if err != nil {
			return nil, err
		}
		if int(k) != op.outputs {
			return nil, fmt.Errorf("num_outputs is %d but the node has %d outputs", k, op.outputs)
		}
		op.roundsUp = true
	}
	return op, nil
}

// pieces returns the size of every output along an axis of length d.
func (p splitOp) pieces(in []*Tensor, d int) ([]int, error) {
	sizes := p.sizes
	if v, ok := intsIn(in, 1); ok && sizes == nil {
		sizes = v
	}
	out := make([]int, p.outputs)
	if sizes != nil {
		if len(sizes) != p.outputs {
			return nil, fmt.Errorf("split %v has %d sizes for %d outputs", sizes, len(sizes), p.outputs)
		}
		total := 0
		for i, v := range sizes {
			if v < 0 {
				return nil, fmt.Errorf("split %v has a negative size", sizes)
			}
			out[i] = int(v)
			total += out[i]
		}
		if total != d {
			return nil, fmt.Errorf("split %v sums to %d, the axis has %d", sizes, total, d)
		}
		return out, nil
	}
	n := p.outputs
	chunk := d / n
	if d%n != 0 {
		if !p.roundsUp {
			return nil, fmt.Errorf("cannot split an axis of %d into %d equal parts", d, n)
		}
		chunk = (d + n - 1) / n
		if chunk*(n-1) >= d {
			return nil, fmt.Errorf("cannot split an axis of %d into %d parts of %d", d, n, chunk)
		}
	}
	for i := range out {
		out[i] = chunk
	}
	out[n-1] = d - chunk*(n-1)
	return out, nil
}

func (p splitOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	if p.outputs == 0 {
		return nil, fmt.Errorf("the node has no outputs")
	}
	x := in[0]
	axis, err := normAxis(p.axis, x.Rank())
	if err != nil {
		return nil, err
	}
	sizes, err := p.pieces(in, x.Shape[axis])
	if err != nil {
		return nil, err
	}
	outer, inner := Numel(x.Shape[:axis]), Numel(x.Shape[axis+1:])
	ys := make([]*Tensor, len(sizes))
	widths := make([]int, len(sizes))
	for i, n := range sizes {
		shape := append([]int(nil), x.Shape...)
		shape[axis] = n
		ys[i] = zerosOfKind(x, shape)
		widths[i] = n * inner
	}
	if x.IsInt() {
		dsts := make([][]int64, len(ys))
		for i, y := range ys {
			dsts[i] = y.Ints
		}
		splitRows(dsts, x.Ints, widths, outer)
	} else {
		dsts := make([][]float32, len(ys))
		for i, y := range ys {
			dsts[i] = y.Data
		}
		splitRows(dsts, x.Data, widths, outer)
	}
	s.SetAux(concatSaved{shapes: [][]int{x.Shape}, widths: widths, outer: outer})
	return ys, nil
}

func (splitOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	sv := s.Aux().(concatSaved)
	reached := false
	for _, g := range dy {
		reached = reached || g != nil && !g.IsInt()
	}
	if !reached {
		return []*Tensor{nil, nil}, nil
	}
	dx := NewFloat(sv.shapes[0]...)
	srcs := make([][]float32, len(sv.widths))
	for i := range srcs {
		if i < len(dy) && dy[i] != nil {
			srcs[i] = dy[i].Data
		} else {
			srcs[i] = make([]float32, sv.widths[i]*sv.outer) // no gradient reached this piece
		}
	}
	joinRows(dx.Data, srcs, sv.widths, sv.outer)
	return []*Tensor{dx, nil}, nil
}
