package ops

import (
	"fmt"
	"math"
)

// GELU reaches the interpreter as x·0.5·(1 + erf(x/√2)): a Div by a
// constant, an Erf, an Add, two Muls. Apart, a gradient pass keeps x/√2
// for the Erf besides x and 1+erf for the Mul: three tensors of the MLP's
// width (four times the model's) in every transformer block. Joined, the
// Div and the Erf keep x, which the Mul keeps anyway. Where the five nodes
// have GELU's constants, the whole-GELU pattern (gelu.go), applied before
// any pair, takes them first and keeps one tensor; this rule serves the
// other divisors.
func init() {
	registerFusion(Fusion{Name: "Div+Erf", First: "Div", Then: "Erf",
		Join: func(_, _ Op, shapes [][]int, _ bool) (Op, bool) {
			// One divisor, one element at compile time: a scalar's shape
			// is empty (every input a node reads has an inferred shape;
			// -1 marks a dimension that follows the batch).
			return erfOfQuotient{}, len(shapes) == 2 && (len(shapes[1]) == 0 || Numel(shapes[1]) == 1)
		}})
}

// erfOfQuotient is y = erf(x/c), c one element, computed as the Div and
// the Erf compute it, forward and backward, so the bits do not change.
type erfOfQuotient struct{}

func (erfOfQuotient) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "A")
	if err != nil {
		return nil, err
	}
	c, err := floatIn(in, 1, "B")
	if err != nil {
		return nil, err
	}
	if c.Len() != 1 {
		return nil, fmt.Errorf("the divisor %v is not one element", c)
	}
	cv := c.Data[0]
	y := s.alloc(false, x.Shape...)
	forChunks(len(x.Data), 8, func(lo, hi int) {
		for i, v := range x.Data[lo:hi] {
			y.Data[lo+i] = float32(math.Erf(float64(v / cv)))
		}
	})
	s.Save(x, c)
	return []*Tensor{y}, nil
}

// Backward: dx = dy·erf'(x/c)·(1/c); dc = Σ dy·erf'(x/c)·(-(x/c)/c), summed
// in order as the Div sums its row.
func (erfOfQuotient) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	x, c := s.Saved(0), s.Saved(1)
	cv := c.Data[0]
	grads := make([]*Tensor, 2)
	du := s.alloc(false, x.Shape...)
	forChunks(len(du.Data), 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			u := float64(x.Data[i] / cv)
			du.Data[i] = dy[0].Data[i] * float32(2/math.SqrtPi*math.Exp(-u*u))
		}
	})
	if s.Needs(1) {
		dc := NewFloat(append([]int(nil), c.Shape...)...)
		var sum float32
		for i, g := range du.Data {
			sum += g * (-(x.Data[i] / cv) / cv)
		}
		dc.Data[0] = sum
		grads[1] = dc
	}
	if !s.Needs(0) {
		s.Buffers.Put(du.Data)
		return grads, nil
	}
	inv := 1 / cv
	forChunks(len(du.Data), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			du.Data[i] *= inv
		}
	})
	grads[0] = du
	return grads, nil
}
