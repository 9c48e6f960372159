package ops

import (
	"fmt"
	"math"
)

// reduceKind selects what a reduction computes.
type reduceKind int

const (
	reduceSum reduceKind = iota
	reduceMean
	reduceMax
	reduceMin
	reduceL2
)

// reduction is the ReduceSum family. The axes are an attribute until the
// opset where each operator moved them to an optional second input (13 for
// ReduceSum, 18 for the rest); no axes means every axis, or the identity
// when noop_with_empty_axes is set.
type reduction struct {
	kind      reduceKind
	axes      []int64 // the attribute form's axes; nil means every axis
	axesInput bool
	keepdims  bool
	noop      bool
}

type reductionSaved struct {
	plan reducePlan
	arg  []int32 // Max, Min: flat input index of each output's winner, -1 if none
}

func newReduction(kind reduceKind, axesInput bool) constructor {
	return func(n *Node) (Op, error) {
		r := &reduction{kind: kind, axesInput: axesInput}
		keep, err := n.Int("keepdims", 1)
		if err != nil {
			return nil, err
		}
		noop, err := n.Int("noop_with_empty_axes", 0)
		if err != nil {
			return nil, err
		}
		r.keepdims, r.noop = keep != 0, noop != 0
		if !axesInput {
			if r.axes, err = n.Ints("axes", nil); err != nil {
				return nil, err
			}
		}
		return r, nil
	}
}

func (r *reduction) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (data) is missing")
	}
	x := in[0]
	if x.IsInt() {
		return nil, fmt.Errorf("%w: reduction of an integer tensor", ErrUnsupported)
	}
	p, shape, noop, err := r.plan(in)
	if err != nil {
		return nil, err
	}
	if noop {
		s.SetAux(nil)
		return []*Tensor{x}, nil
	}
	y := NewFloat(shape...)
	var arg []int32
	count := float32(x.Len()) / float32(max(y.Len(), 1))
	switch r.kind {
	case reduceSum:
		p.sum(y.Data, x.Data, false)
	case reduceMean:
		p.sum(y.Data, x.Data, false)
		for i := range y.Data {
			y.Data[i] /= count
		}
	case reduceL2:
		p.sum(y.Data, x.Data, true)
		for i, v := range y.Data {
			y.Data[i] = float32(math.Sqrt(float64(v)))
		}
	case reduceMax, reduceMin:
		arg = make([]int32, y.Len())
		sign := float32(1)
		if r.kind == reduceMin {
			sign = -1
		}
		p.extreme(y.Data, arg, x.Data, sign)
	}
	// Only ReduceL2's derivative, x/y, reads values: the others spread
	// the gradient by the plan (or the winners' indices) and keep shapes.
	xk, yk := x, y
	if r.kind != reduceL2 {
		xk, yk = &Tensor{Shape: x.Shape}, &Tensor{Shape: y.Shape}
	}
	s.Save(xk, yk)
	s.SetAux(&reductionSaved{plan: p, arg: arg})
	return []*Tensor{y}, nil
}

// plan reads the axes (attribute or input 1) for data in[0] and returns
// the reduction plan and the output's shape; noop reports that there are
// no axes and noop_with_empty_axes makes the node the identity.
func (r *reduction) plan(in []*Tensor) (p reducePlan, shape []int, noop bool, err error) {
	x := in[0]
	axes := r.axes
	if r.axesInput {
		axes, _ = intsIn(in, 1)
	}
	if len(axes) == 0 && r.noop {
		return reducePlan{}, nil, true, nil
	}
	reduced, err := reducedAxes(axes, x.Rank())
	if err != nil {
		return reducePlan{}, nil, false, err
	}
	if len(axes) == 0 {
		for a := range reduced {
			reduced[a] = true
		}
	}
	p = newReducePlan(x.Shape, reduced)
	for a, d := range p.kept {
		if r.keepdims || !reduced[a] {
			shape = append(shape, d)
		}
	}
	return p, shape, false, nil
}

// reducedAxes marks the axes, each given once, of a tensor of rank rank.
func reducedAxes(axes []int64, rank int) ([]bool, error) {
	reduced := make([]bool, rank)
	for _, ax := range axes {
		a, err := normAxis(ax, rank)
		if err != nil {
			return nil, err
		}
		if reduced[a] {
			return nil, fmt.Errorf("axis %d appears twice in %v", ax, axes)
		}
		reduced[a] = true
	}
	return reduced, nil
}

func (r *reduction) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	sv, _ := s.Aux().(*reductionSaved)
	if sv == nil { // noop_with_empty_axes: the identity
		return []*Tensor{dy[0]}, nil
	}
	x, y, g := s.Saved(0), s.Saved(1), dy[0]
	// From the pool: spread writes every element; Max and Min add into
	// zeros.
	dx := s.alloc(r.kind == reduceMax || r.kind == reduceMin, x.Shape...)
	switch r.kind {
	case reduceSum:
		sv.plan.spread(dx.Data, g.Data)
	case reduceMean:
		count := float32(x.Len()) / float32(max(y.Len(), 1))
		gs := make([]float32, len(g.Data))
		for i, v := range g.Data {
			gs[i] = v / count
		}
		sv.plan.spread(dx.Data, gs)
	case reduceL2:
		gs := make([]float32, len(g.Data))
		for i, v := range g.Data {
			if y.Data[i] != 0 {
				gs[i] = v / y.Data[i]
			}
		}
		sv.plan.spread(dx.Data, gs)
		for k, v := range x.Data {
			dx.Data[k] *= v
		}
	case reduceMax, reduceMin:
		for o, k := range sv.arg {
			if k >= 0 {
				dx.Data[k] += g.Data[o]
			}
		}
	}
	return []*Tensor{dx}, nil
}

// reducePlan maps input elements to output elements. When the reduced axes
// (ignoring those of size 1) form one contiguous block, the input is viewed
// as outer×r×inner and reduced over r with plain loops; otherwise idx holds
// the output index of every input element.
type reducePlan struct {
	kept            []int // the input shape with reduced axes set to 1
	outer, r, inner int
	idx             []int32
}

func newReducePlan(shape []int, reduced []bool) reducePlan {
	p := reducePlan{kept: append([]int(nil), shape...)}
	lo, hi := -1, -1
	for a, red := range reduced {
		if red {
			p.kept[a] = 1
			if shape[a] != 1 {
				if lo < 0 {
					lo = a
				}
				hi = a + 1
			}
		}
	}
	if lo < 0 { // nothing of size > 1 is reduced
		p.outer, p.r, p.inner = Numel(shape), 1, 1
		return p
	}
	for a := lo; a < hi; a++ {
		if !reduced[a] && shape[a] != 1 {
			p.idx = broadcastIndex(shape, p.kept)
			return p
		}
	}
	p.outer, p.r, p.inner = Numel(shape[:lo]), Numel(shape[lo:hi]), Numel(shape[hi:])
	return p
}

// sum adds x (squared when square is set) into the zeroed dst.
func (p reducePlan) sum(dst, x []float32, square bool) {
	if p.idx != nil {
		for k, v := range x {
			if square {
				v *= v
			}
			dst[p.idx[k]] += v
		}
		return
	}
	for o := 0; o < p.outer; o++ {
		if p.inner == 1 {
			var acc float32
			for _, v := range x[o*p.r : (o+1)*p.r] {
				if square {
					v *= v
				}
				acc += v
			}
			dst[o] = acc
			continue
		}
		d := dst[o*p.inner : (o+1)*p.inner]
		for j := 0; j < p.r; j++ {
			for i, v := range x[(o*p.r+j)*p.inner:][:p.inner] {
				if square {
					v *= v
				}
				d[i] += v
			}
		}
	}
}

// extreme writes the maximum of sign·x per output into dst (so sign -1
// gives the minimum) and the flat input index it came from into arg. An
// empty reduction gives -sign·∞ and index -1.
func (p reducePlan) extreme(dst []float32, arg []int32, x []float32, sign float32) {
	for o := range dst {
		dst[o], arg[o] = float32(math.Inf(-int(sign))), -1
	}
	if p.idx != nil {
		for k, v := range x {
			if o := p.idx[k]; arg[o] < 0 || sign*v > sign*dst[o] {
				dst[o], arg[o] = v, int32(k)
			}
		}
		return
	}
	for o := 0; o < p.outer; o++ {
		d, a := dst[o*p.inner:(o+1)*p.inner], arg[o*p.inner:(o+1)*p.inner]
		for j := 0; j < p.r; j++ {
			base := (o*p.r + j) * p.inner
			for i, v := range x[base : base+p.inner] {
				if j == 0 || sign*v > sign*d[i] {
					d[i], a[i] = v, int32(base+i)
				}
			}
		}
	}
}

// outputs writes into dst the output index of every input element.
func (p reducePlan) outputs(dst []int) {
	if p.idx != nil {
		for k, o := range p.idx {
			dst[k] = int(o)
		}
		return
	}
	for o := 0; o < p.outer; o++ {
		for j := 0; j < p.r; j++ {
			base := (o*p.r + j) * p.inner
			for i := range p.inner {
				dst[base+i] = o*p.inner + i
			}
		}
	}
}

// spread is the adjoint of sum: every input element gets its output's value.
func (p reducePlan) spread(dst, src []float32) {
	if p.idx != nil {
		for k := range dst {
			dst[k] = src[p.idx[k]]
		}
		return
	}
	for o := 0; o < p.outer; o++ {
		s := src[o*p.inner : (o+1)*p.inner]
		for j := 0; j < p.r; j++ {
			copy(dst[(o*p.r+j)*p.inner:][:p.inner], s)
		}
	}
}
