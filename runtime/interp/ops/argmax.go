package ops

import "fmt"

func init() { register("ArgMax", 1, newArgMax) } // negative axes (11) and select_last_index (12) read at every opset

// argMaxOp returns the int64 index of the largest value along axis (the
// smallest for ArgMin), the first one on ties unless select_last_index is
// set. Not differentiable.
type argMaxOp struct {
	axis      int64
	keepDims  bool
	lastIndex bool
	smallest  bool // ArgMin
}

func newArgMax(n *Node) (Op, error) {
	axis, err := n.Int("axis", 0)
	if err != nil {
		return nil, err
	}
	keep, err := n.Int("keepdims", 1)
	if err != nil {
		return nil, err
	}
	last, err := n.Int("select_last_index", 0)
	return argMaxOp{axis: axis, keepDims: keep != 0, lastIndex: last != 0}, err
}

func (a argMaxOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	axis, err := normAxis(a.axis, x.Rank())
	if err != nil {
		return nil, err
	}
	d := x.Shape[axis]
	if d == 0 {
		name := "ArgMax"
		if a.smallest {
			name = "ArgMin"
		}
		return nil, fmt.Errorf("%s over axis %d of size 0", name, axis)
	}
	shape := append([]int(nil), x.Shape...)
	shape[axis] = 1
	if !a.keepDims {
		shape = append(shape[:axis], shape[axis+1:]...)
	}
	y := NewInts(shape, make([]int64, Numel(shape)))
	outer, inner := Numel(x.Shape[:axis]), Numel(x.Shape[axis+1:])
	if x.IsInt() {
		argExtremeInto(y.Ints, x.Ints, outer, d, inner, a.lastIndex, a.smallest)
	} else {
		argExtremeInto(y.Ints, x.Data, outer, d, inner, a.lastIndex, a.smallest)
	}
	return []*Tensor{y}, nil
}

// argExtremeInto writes the index of the largest (smallest, for min) value
// of each run of d values, inner apart.
func argExtremeInto[T tensorValue](dst []int64, src []T, outer, d, inner int, last, min bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*d*inner + i
			best, at := src[base], 0
			for j := 1; j < d; j++ {
				v := src[base+j*inner]
				if !min && v > best || min && v < best || last && v == best {
					best, at = v, j
				}
			}
			dst[o*inner+i] = int64(at)
		}
	}
}

func (argMaxOp) Backward(*State, []*Tensor) ([]*Tensor, error) { return []*Tensor{nil}, nil }
