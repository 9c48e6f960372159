package ops

import (
	"fmt"
	"math"
)

func init() { register("Range", 11, func(*Node) (Op, error) { return rangeOp{}, nil }) }

// rangeOp returns start, start+delta, … up to but excluding limit, as
// integers or floats like its inputs. Not differentiable.
type rangeOp struct{}

func (rangeOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	for i, name := range []string{"start", "limit", "delta"} {
		if i >= len(in) || in[i] == nil || in[i].Len() != 1 {
			return nil, fmt.Errorf("input %d (%s) must be a scalar", i, name)
		}
	}
	if !sameKind(in[0], in[1], in[2]) {
		return nil, fmt.Errorf("inputs %v, %v, %v mix floats and integers", in[0], in[1], in[2])
	}
	if in[0].IsInt() {
		start, limit, delta := in[0].Ints[0], in[1].Ints[0], in[2].Ints[0]
		if delta == 0 {
			return nil, fmt.Errorf("delta is zero")
		}
		n, err := rangeCount(float64(limit-start) / float64(delta))
		if err != nil {
			return nil, err
		}
		if err := s.fits(n); err != nil {
			return nil, err
		}
		y := NewInts([]int{n}, make([]int64, n))
		for i := range y.Ints {
			y.Ints[i] = start + int64(i)*delta
		}
		return []*Tensor{y}, nil
	}
	start, limit, delta := in[0].Data[0], in[1].Data[0], in[2].Data[0]
	if delta == 0 {
		return nil, fmt.Errorf("delta is zero")
	}
	n, err := rangeCount(float64(limit-start) / float64(delta))
	if err != nil {
		return nil, err
	}
	if err := s.fits(n); err != nil {
		return nil, err
	}
	y := NewFloat(n)
	for i := range y.Data {
		y.Data[i] = start + float32(i)*delta
	}
	return []*Tensor{y}, nil
}

// rangeCount is the output length max(ceil(q), 0) for q = (limit-start)/delta.
func rangeCount(q float64) (int, error) {
	if math.IsNaN(q) {
		return 0, fmt.Errorf("range of %g elements", q)
	}
	if q > maxElems {
		return 0, fmt.Errorf("range of %g elements: %w", q, ErrTooLarge)
	}
	return int(max(math.Ceil(q), 0)), nil
}

func (rangeOp) Backward(*State, []*Tensor) ([]*Tensor, error) { return []*Tensor{nil, nil, nil}, nil }
