package ops

import (
	"errors"
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/onnx"
)

// ErrTooLarge marks a tensor that a model declares or implies beyond the
// memory budget (State.Limit). Test with errors.Is.
var ErrTooLarge = errors.New("beyond the memory budget")

// maxElems bounds a tensor's element count, budget or not: the kernels
// index a tensor's elements (and MaxPool records its winners) in int32.
const maxElems = math.MaxInt32

// SafeNumel returns the element count of shape, refusing a negative
// dimension and a count above limit (and maxElems; limit ≤ 0 means
// maxElems alone) before any product can overflow. The product of the
// non-zero dimensions is bounded too: an empty tensor of shape [0, 2^40]
// holds nothing, but ops size index maps and loops by its axes.
func SafeNumel(shape []int, limit int) (int, error) {
	if limit <= 0 || limit > maxElems {
		limit = maxElems
	}
	n, empty := 1, false
	for _, d := range shape {
		switch {
		case d < 0:
			return 0, fmt.Errorf("%w: shape %s has a negative dimension", onnx.ErrInvalid, ShapeString(shape))
		case d == 0:
			empty = true
		case n > limit/d:
			return 0, fmt.Errorf("a tensor of shape %s needs %s, %w of %s", ShapeString(shape), bigBytes(shape), ErrTooLarge, Bytes(int64(limit)*4))
		default:
			n *= d
		}
	}
	if empty {
		return 0, nil
	}
	return n, nil
}

// fits checks, before an op allocates it, that a tensor of shape is within
// the node's memory budget.
func (s *State) fits(shape ...int) error {
	_, err := SafeNumel(shape, s.limit())
	return err
}

func (s *State) limit() int {
	if s == nil {
		return 0
	}
	return s.Limit
}

// bigBytes spells the float32 bytes of shape, however large: in floating
// point, enough for a message.
func bigBytes(shape []int) string {
	p := 4.0
	for _, d := range shape {
		p *= float64(max(d, 1))
	}
	if p < 1<<62 {
		return Bytes(int64(p))
	}
	return fmt.Sprintf("%.3g bytes", p)
}

// Bytes formats a byte count with a binary unit: 512 MiB, 1.5 GiB.
func Bytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.3g %s", v, units[u])
}
