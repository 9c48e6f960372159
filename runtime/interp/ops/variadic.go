package ops

import (
	"fmt"
	"math"
)

// variadicKind selects what a variadic elementwise operator computes.
type variadicKind int

const (
	variadicSum variadicKind = iota
	variadicMean
	variadicMax
	variadicMin
)

// variadicOp is Sum, Mean, Max or Min over any number of inputs, broadcast
// together by NumPy's rule. Max and Min send each gradient element to the
// input that supplied the output, the first one on ties.
type variadicOp struct{ kind variadicKind }

type variadicSaved struct {
	out    []int
	shapes [][]int
	winner []uint16 // Max, Min: the input each output element came from
}

func variadic(kind variadicKind) constructor {
	return func(*Node) (Op, error) { return variadicOp{kind}, nil }
}

func (o variadicOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("needs at least one input")
	}
	if len(in) > math.MaxUint16 {
		return nil, fmt.Errorf("%w: %d inputs", ErrUnsupported, len(in))
	}
	shape := in[0].Shape
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		if t.IsInt() != in[0].IsInt() {
			return nil, fmt.Errorf("inputs %v and %v mix integers and floats", in[0], t)
		}
		var err error
		if shape, err = broadcastShape(shape, t.Shape); err != nil {
			return nil, err
		}
	}
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	if in[0].IsInt() {
		return o.forwardInts(in, shape)
	}
	y := NewFloat(append([]int(nil), shape...)...)
	var winner []uint16
	if s.Grad && (o.kind == variadicMax || o.kind == variadicMin) && len(in) > 1 {
		winner = make([]uint16, len(y.Data))
	}
	sign := float32(1)
	if o.kind == variadicMin {
		sign = -1
	}
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
		idx := broadcastIndex(shape, t.Shape)
		switch {
		case i == 0 && idx == nil:
			copy(y.Data, t.Data)
		case i == 0:
			for k := range y.Data {
				y.Data[k] = t.Data[idx[k]]
			}
		case o.kind == variadicSum || o.kind == variadicMean:
			if idx == nil {
				for k, v := range t.Data {
					y.Data[k] += v
				}
				continue
			}
			for k := range y.Data {
				y.Data[k] += t.Data[idx[k]]
			}
		default:
			for k, cur := range y.Data {
				v := t.Data[srcAt(idx, k)]
				if sign*v > sign*cur {
					y.Data[k] = v
					if winner != nil {
						winner[k] = uint16(i)
					}
				}
			}
		}
	}
	if o.kind == variadicMean {
		inv := 1 / float32(len(in))
		for k := range y.Data {
			y.Data[k] *= inv
		}
	}
	s.SetAux(variadicSaved{out: y.Shape, shapes: shapes, winner: winner})
	return []*Tensor{y}, nil
}

func (o variadicOp) forwardInts(in []*Tensor, shape []int) ([]*Tensor, error) {
	if o.kind == variadicMean {
		return nil, fmt.Errorf("%w: Mean of integers", ErrUnsupported)
	}
	y := NewInts(append([]int(nil), shape...), make([]int64, Numel(shape)))
	for i, t := range in {
		idx := broadcastIndex(shape, t.Shape)
		for k, cur := range y.Ints {
			v := t.Ints[srcAt(idx, k)]
			switch {
			case i == 0:
				y.Ints[k] = v
			case o.kind == variadicSum:
				y.Ints[k] = cur + v
			case o.kind == variadicMax:
				y.Ints[k] = max(cur, v)
			default:
				y.Ints[k] = min(cur, v)
			}
		}
	}
	return []*Tensor{y}, nil
}

func (o variadicOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	sv := s.Aux().(variadicSaved)
	g := dy[0]
	if o.kind == variadicMean {
		scaled := NewFloat(sv.out...)
		inv := 1 / float32(len(sv.shapes))
		for k, v := range g.Data {
			scaled.Data[k] = v * inv
		}
		g = scaled
	}
	grads := make([]*Tensor, len(sv.shapes))
	for i, shape := range sv.shapes {
		if !s.Needs(i) {
			continue
		}
		gi := g
		if sv.winner != nil {
			gi = NewFloat(sv.out...)
			for k, w := range sv.winner {
				if int(w) == i {
					gi.Data[k] = g.Data[k]
				}
			}
		}
		grads[i] = reduceTo(gi, shape)
	}
	return grads, nil
}
