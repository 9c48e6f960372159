package ops

import "fmt"

// ArgMin: negative axes (11) and select_last_index (12) are read at every
// opset, as ArgMax's.
func init() { register("ArgMin", 1, newArgMin) }

// argMinOp returns the int64 index of the smallest value along axis, the
// first one on ties unless select_last_index is set. Not differentiable.
type argMinOp struct{ argMaxOp }

func newArgMin(n *Node) (Op, error) {
	op, err := newArgMax(n)
	if err != nil {
		return nil, err
	}
	return argMinOp{op.(argMaxOp)}, nil
}

func (a argMinOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
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
		return nil, fmt.Errorf("ArgMin over axis %d of size 0", axis)
	}
	shape := append([]int(nil), x.Shape...)
	shape[axis] = 1
	if !a.keepDims {
		shape = append(shape[:axis], shape[axis+1:]...)
	}
	y := NewInts(shape, make([]int64, Numel(shape)))
	outer, inner := Numel(x.Shape[:axis]), Numel(x.Shape[axis+1:])
	if x.IsInt() {
		argMinInto(y.Ints, x.Ints, outer, d, inner, a.lastIndex)
	} else {
		argMinInto(y.Ints, x.Data, outer, d, inner, a.lastIndex)
	}
	return []*Tensor{y}, nil
}

func argMinInto[T tensorValue](dst []int64, src []T, outer, d, inner int, last bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*d*inner + i
			best, at := src[base], 0
			for j := 1; j < d; j++ {
				v := src[base+j*inner]
				if v < best || last && v == best {
					best, at = v, j
				}
			}
			dst[o*inner+i] = int64(at)
		}
	}
}
