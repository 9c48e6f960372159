package ops

import "math"

// Pow broadcasts base and exponent (opset 7). From opset 12 either may be
// an integer: the result has the base's kind, and an integer exponent of a
// float base acts as a float. That is a superset of opset 7, so one version
// serves all.
func init() { register("Pow", 7, func(*Node) (Op, error) { return pow{}, nil }) }

type pow struct{}

type powSaved struct {
	ia, ib   []int32
	intPower bool // the exponent was an integer tensor: no gradient for it
	// scalar marks one exponent for every element, which then has no
	// index table (one int32 per element, kept until the backward pass).
	scalar bool
}

// exp is the exponent of output element k.
func (sv powSaved) exp(e *Tensor, k int) float32 {
	if sv.scalar {
		return e.Data[0]
	}
	return e.Data[srcAt(sv.ib, k)]
}

func (pow) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, b, shape, err := broadcastPair(in)
	if err != nil {
		return nil, err
	}
	ia := broadcastIndex(shape, a.Shape)
	if a.IsInt() {
		return []*Tensor{powInts(a, b, shape, ia, broadcastIndex(shape, b.Shape))}, nil
	}
	sv := powSaved{ia: ia, intPower: b.IsInt(), scalar: Numel(b.Shape) == 1}
	if !sv.scalar {
		sv.ib = broadcastIndex(shape, b.Shape)
	}
	e := b
	if b.IsInt() {
		e = NewFloat(b.Shape...)
		for i, v := range b.Ints {
			e.Data[i] = float32(v)
		}
	}
	y := s.alloc(false, shape...) // every element written below
	if ia == nil && sv.scalar {
		powScalar(y.Data, a.Data, e.Data[0])
	} else {
		for k := range y.Data {
			y.Data[k] = float32(math.Pow(float64(a.Data[srcAt(ia, k)]), float64(sv.exp(e, k))))
		}
	}
	// Only the exponent's derivative, aᵇ·ln a, reads y: without it (a
	// constant exponent, LayerNorm's square) y is not kept.
	yk := y
	if !s.Needs(1) || b.IsInt() {
		yk = &Tensor{Shape: y.Shape}
	}
	s.Save(a, e, yk)
	s.SetAux(sv)
	return []*Tensor{y}, nil
}

// powScalar raises every element to one exponent, with exact fast paths for
// the squares and roots that normalisation layers use.
func powScalar(dst, x []float32, e float32) {
	switch e {
	case 1:
		copy(dst, x)
	case 2:
		for i, v := range x {
			dst[i] = v * v
		}
	case 3:
		for i, v := range x {
			dst[i] = v * v * v
		}
	case 0.5:
		for i, v := range x {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	default:
		for i, v := range x {
			dst[i] = float32(math.Pow(float64(v), float64(e)))
		}
	}
}

// powInts computes an integer base to an integer power exactly, or to a
// float power truncated toward zero.
func powInts(a, b *Tensor, shape []int, ia, ib []int32) *Tensor {
	y := NewInts(append([]int(nil), shape...), make([]int64, Numel(shape)))
	for k := range y.Ints {
		ka, kb := srcAt(ia, k), srcAt(ib, k)
		base := a.Ints[ka]
		if !b.IsInt() {
			y.Ints[k] = truncInt64(float32(math.Pow(float64(base), float64(b.Data[kb]))))
			continue
		}
		e, r := b.Ints[kb], int64(1)
		if e < 0 { // 1/baseⁿ truncates to 0 unless |base| is 1
			switch {
			case base == 1:
			case base == -1 && e%2 != 0:
				r = -1
			case base == -1:
			default:
				r = 0
			}
			y.Ints[k] = r
			continue
		}
		for ; e > 0; e >>= 1 {
			if e&1 == 1 {
				r *= base
			}
			base *= base
		}
		y.Ints[k] = r
	}
	return y
}

// Backward: d/da = b·a^(b-1); d/db = aᵇ·ln a, taken as 0 where a ≤ 0 so a
// negative base does not fill the exponent's gradient with NaNs.
func (pow) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, e, y := s.Saved(0), s.Saved(1), s.Saved(2)
	sv := s.Aux().(powSaved)
	g := dy[0].Data
	grads := []*Tensor{nil, nil}
	if s.Needs(0) {
		ga := s.alloc(false, y.Shape...) // every element written below
		for k, gv := range g {
			av, ev := a.Data[srcAt(sv.ia, k)], sv.exp(e, k)
			var d float32
			switch ev {
			case 0:
			case 1:
				d = 1
			case 2:
				d = 2 * av
			default:
				d = ev * float32(math.Pow(float64(av), float64(ev-1)))
			}
			ga.Data[k] = gv * d
		}
		if grads[0] = reduceTo(ga, a.Shape); grads[0] != ga {
			s.Buffers.Put(ga.Data)
		}
	}
	if s.Needs(1) && !sv.intPower {
		gb := s.alloc(true, y.Shape...) // zero where a ≤ 0
		for k, gv := range g {
			if av := a.Data[srcAt(sv.ia, k)]; av > 0 {
				gb.Data[k] = gv * y.Data[k] * float32(math.Log(float64(av)))
			}
		}
		if grads[1] = reduceTo(gb, e.Shape); grads[1] != gb {
			s.Buffers.Put(gb.Data)
		}
	}
	return grads, nil
}
