package ops

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// broadcastShape applies NumPy's rule: shapes align at the right and each
// pair of dimensions must be equal or contain a 1.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %s and %s do not broadcast", ShapeString(a), ShapeString(b))
		}
	}
	return out, nil
}

// broadcastPair returns the two inputs of a binary elementwise operator and
// the shape they broadcast to.
func broadcastPair(in []*Tensor) (a, b *Tensor, shape []int, err error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, nil, nil, fmt.Errorf("needs two inputs")
	}
	shape, err = broadcastShape(in[0].Shape, in[1].Shape)
	return in[0], in[1], shape, err
}

// broadcastIndex maps every flat index of out to the flat index of an input
// of shape in broadcast to out. It returns nil when in equals out.
func broadcastIndex(out, in []int) []int32 {
	if slices.Equal(out, in) {
		return nil
	}
	ist := make([]int, len(out)) // input stride per output axis, 0 where broadcast
	st := strides(in)
	for i := range out {
		if j := len(in) - len(out) + i; j >= 0 && in[j] != 1 {
			ist[i] = st[j]
		}
	}
	idx := make([]int32, Numel(out))
	pos := make([]int, len(out))
	off := 0
	for k := range idx {
		idx[k] = int32(off)
		for ax := len(out) - 1; ax >= 0; ax-- {
			pos[ax]++
			off += ist[ax]
			if pos[ax] < out[ax] {
				break
			}
			off -= ist[ax] * pos[ax]
			pos[ax] = 0
		}
	}
	return idx
}

// reduceTo sums g (of a broadcast output shape) down to shape, undoing a
// broadcast in the backward pass.
func reduceTo(g *Tensor, shape []int) *Tensor {
	if slices.Equal(g.Shape, shape) {
		return g
	}
	r := NewFloat(append([]int(nil), shape...)...)
	idx := broadcastIndex(g.Shape, shape)
	for k, v := range g.Data {
		r.Data[idx[k]] += v
	}
	return r
}

// binaryOp is an elementwise operator with broadcasting. da and db give the
// partial derivatives in terms of the inputs and the output.
type binaryOp struct {
	f      func(a, b float32) float32
	fi     func(a, b int64) int64 // integer form for shape arithmetic; nil if none
	da, db func(a, b, y float32) float32
	// skip says, per side, which of a, b and y that side's derivative
	// does not read: a gradient pass keeps only what the wanted sides
	// read (a residual Add keeps nothing). The zero value reads all.
	skip [2]operands
	kind binaryKind // Add and Mul take written-out loops (binarykinds.go)
}

// operands is a set of a binary op's a, b and y.
type operands uint8

const (
	opA operands = 1 << iota
	opB
	opY
	opAll = opA | opB | opY
)

// kept returns t, or, where no wanted derivative reads it, a tensor of
// its shape without data.
func (o binaryOp) kept(s *State, t *Tensor, which operands) *Tensor {
	for side := range 2 {
		if s.Needs(side) && o.skip[side]&which == 0 {
			return t
		}
	}
	return &Tensor{Shape: t.Shape}
}

func (o binaryOp) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	a, b, shape, err := broadcastPair(in)
	if err != nil {
		return nil, err
	}
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	if row, inner, ok := rowSides(shape, a, b); ok && !a.IsInt() && !b.IsInt() {
		y := s.alloc(false, shape...)
		o.forwardRows(kernel.Acts(s.Kernels), y, a, b, row, inner)
		s.Save(o.kept(s, a, opA), o.kept(s, b, opB), o.kept(s, y, opY))
		s.SetAux([2][]int32{})
		return []*Tensor{y}, nil
	}
	if blk, m, inner, ok := blockSides(shape, a, b); ok && !a.IsInt() && !b.IsInt() {
		y := s.alloc(false, shape...)
		o.forwardBlocks(y, a, b, blk, m, inner)
		s.Save(o.kept(s, a, opA), o.kept(s, b, opB), o.kept(s, y, opY))
		s.SetAux([2][]int32{})
		return []*Tensor{y}, nil
	}
	ia, ib := broadcastIndex(shape, a.Shape), broadcastIndex(shape, b.Shape)
	if a.IsInt() || b.IsInt() {
		if !a.IsInt() || !b.IsInt() || o.fi == nil {
			return nil, fmt.Errorf("%w: mixed or integer inputs %v and %v", ErrUnsupported, a, b)
		}
		y := NewInts(shape, make([]int64, Numel(shape)))
		for k := range y.Ints {
			y.Ints[k] = o.fi(a.Ints[srcAt(ia, k)], b.Ints[srcAt(ib, k)])
		}
		return []*Tensor{y}, nil
	}
	y := s.alloc(false, shape...)
	switch {
	case ia == nil && ib == nil:
		o.sameShape(y.Data, a.Data, b.Data)
	case ia == nil && len(b.Data) == 1:
		bv := b.Data[0]
		for k := range y.Data {
			y.Data[k] = o.f(a.Data[k], bv)
		}
	default:
		for k := range y.Data {
			y.Data[k] = o.f(a.Data[srcAt(ia, k)], b.Data[srcAt(ib, k)])
		}
	}
	s.Save(o.kept(s, a, opA), o.kept(s, b, opB), o.kept(s, y, opY))
	s.SetAux([2][]int32{ia, ib})
	return []*Tensor{y}, nil
}

func (o binaryOp) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, b, y := s.Saved(0), s.Saved(1), s.Saved(2)
	idx := s.Aux().([2][]int32)
	ia, ib := idx[0], idx[1]
	// Only the wanted sides: an attack through x - mean wants x's
	// gradient, not the constant's.
	grads := make([]*Tensor, 2)
	row, inner, rows := rowSides(y.Shape, a, b)
	blk, m, blkInner, blocks := blockSides(y.Shape, a, b)
	for side, d := range []func(a, b, y float32) float32{o.da, o.db} {
		if !s.Needs(side) {
			continue
		}
		if rows {
			grads[side] = o.backwardRows(s, dy[0], a, b, y, side, row, inner)
			continue
		}
		if blocks {
			grads[side] = o.backwardBlocks(s, dy[0], a, b, y, side, blk, m, blkInner)
			continue
		}
		// From the pool, as the forward pass's outputs are: the storage
		// of values the backward pass let go serves its gradients.
		g := s.alloc(false, y.Shape...)
		switch skip := o.skip[side]; {
		case skip == opAll: // a constant derivative
			scaleInto(kernel.Acts(s.Kernels), g.Data, dy[0].Data, d(0, 0, 0))
		case o.kind == kindMul && ia == nil && ib == nil:
			mulInto(g.Data, dy[0].Data, []*Tensor{b, a}[side].Data)
		case skip == opA|opY && ia == nil && ib == nil: // Div's: b alone
			for k, gv := range dy[0].Data {
				g.Data[k] = gv * d(0, b.Data[k], 0)
			}
		default:
			for k, gv := range dy[0].Data {
				g.Data[k] = gv * d(at(a, ia, k), at(b, ib, k), at(y, nil, k))
			}
		}
		if grads[side] = reduceTo(g, []*Tensor{a, b}[side].Shape); grads[side] != g {
			s.Buffers.Put(g.Data)
		}
	}
	return grads, nil
}

// at is element k of t read through the broadcast index idx, 0 where t
// was not kept.
func at(t *Tensor, idx []int32, k int) float32 {
	if t.Data == nil {
		return 0
	}
	return t.Data[srcAt(idx, k)]
}

// srcAt is the input element that output element k reads through a
// broadcast index (nil: the input has the output's shape).
func srcAt(idx []int32, k int) int {
	if idx == nil {
		return k
	}
	return int(idx[k])
}

func binary(o binaryOp) constructor { return func(*Node) (Op, error) { return o, nil } }
