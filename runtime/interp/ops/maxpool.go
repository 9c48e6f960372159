package ops

import (
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// MaxPool's later versions only add attributes (storage_order and the
// Indices output at 8, ceil_mode and dilations at 10) whose defaults keep
// the earlier behaviour, so one registration serves them all.
func init() { register("MaxPool", 1, newMaxPool) }

// maxPool takes the maximum of each window; the first maximum in row-major
// window order wins ties and alone receives the gradient.
type maxPool struct {
	pooling
	columnMajor bool // storage_order=1: Indices count down columns
	indices     bool // the node asks for the Indices output
}

type maxPoolSaved struct {
	g   poolGeom
	xs  []int
	arg []int32 // per output, the winner's offset in its plane; -1 for a window wholly in padding
}

func newMaxPool(n *Node) (Op, error) {
	p, err := parsePooling(n)
	if err != nil {
		return nil, err
	}
	order, err := n.Int("storage_order", 0)
	if err != nil {
		return nil, err
	}
	if order != 0 && order != 1 {
		return nil, fmt.Errorf("storage_order %d is not 0 or 1", order)
	}
	return &maxPool{pooling: p, columnMajor: order == 1,
		indices: len(n.Outputs) > 1 && n.Outputs[1] != ""}, nil
}

func (m *maxPool) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (X) is missing")
	}
	x := in[0]
	g, err := m.geometry(x.Shape)
	if err != nil {
		return nil, err
	}
	shape := g.outShape(x.Shape)
	if err := s.fits(shape...); err != nil {
		return nil, err
	}
	ohw := g.oh * g.ow
	// Quantized integers pass gradients straight through (quantizelinear.go).
	keep := (s.Grad && (!x.IsInt() || quantized(x))) || m.indices
	var arg []int32
	if keep {
		arg = s.indices(g.planes * ohw)
	}
	var y *Tensor
	if x.IsInt() { // quantized models pool integers
		y = NewInts(shape, make([]int64, Numel(shape)))
		y.Elem = x.Elem
		maxPlanes(false, y.Ints, arg, x.Ints, g, math.MinInt64)
	} else {
		y = s.alloc(false, shape...)
		hw := g.h * g.w
		forChunks(g.planes, hw, func(lo, hi int) {
			part := g
			part.planes = hi - lo
			var a []int32
			if arg != nil {
				a = arg[lo*ohw : hi*ohw]
			}
			maxPlanes(s.Kernels, y.Data[lo*ohw:hi*ohw], a, x.Data[lo*hw:hi*hw], part, -math.MaxFloat32)
		})
	}
	outs := []*Tensor{y}
	if m.indices {
		outs = append(outs, m.indexTensor(arg, g, shape))
	}
	s.SetAux(maxPoolSaved{g: g, xs: x.Shape, arg: arg})
	return outs, nil
}

// maxPlanes pools every plane, writing each window's maximum to y and, when
// arg is not nil, the winner's offset in its plane; an empty window (wholly
// in padding) yields lowest and offset -1. kernels lets a 2×2 pool of
// floats take the vector kernels.
func maxPlanes[T float32 | int64](kernels bool, y []T, arg []int32, x []T, g poolGeom, lowest T) {
	hw, ohw := g.h*g.w, g.oh*g.ow
	if g.halves() { // the common 2×2 window: the vector kernels, or unrolled loops
		if simdPool(kernels, y, arg, x, g) {
			return
		}
		for p := range g.planes {
			src, dst := x[p*hw:(p+1)*hw], y[p*ohw:(p+1)*ohw]
			if arg == nil { // inference: no winner to track
				max2x2(dst, src, g.w, g.oh, g.ow)
			} else {
				maxPool2x2(dst, arg[p*ohw:(p+1)*ohw], src, g.w, g.oh, g.ow)
			}
		}
		return
	}
	rows, cols := g.spans()
	scratch := arg == nil
	if scratch {
		arg = make([]int32, ohw) // reused by every plane
	}
	for p := 0; p < g.planes; p++ {
		src, dst, args := x[p*hw:(p+1)*hw], y[p*ohw:(p+1)*ohw], arg
		if !scratch {
			args = arg[p*ohw : (p+1)*ohw]
		}
		for oy, r := range rows {
			iy0 := oy*g.sh - g.ph
			out, oa := dst[oy*g.ow:][:g.ow], args[oy*g.ow:][:g.ow]
			for ox, c := range cols {
				ix0 := ox*g.sw - g.pw
				if r.lo == r.hi || c.lo == c.hi {
					out[ox], oa[ox] = lowest, -1
					continue
				}
				first := (iy0+r.lo*g.dh)*g.w + ix0 + c.lo*g.dw
				best, bi := src[first], int32(first)
				for ki := r.lo; ki < r.hi; ki++ {
					base := (iy0+ki*g.dh)*g.w + ix0
					for kj := c.lo; kj < c.hi; kj++ {
						// Written so the compiler selects without branching:
						// a branch on random data mispredicts half the time.
						q := int32(base + kj*g.dw)
						v := src[q]
						if v > best {
							bi = q
						}
						best = max(best, v)
					}
				}
				out[ox], oa[ox] = best, bi
			}
		}
	}
}

// maxPool2x2 is maxPlanes for the most common window, 2×2 with stride 2
// and no padding, with the loops unrolled.
func maxPool2x2[T float32 | int64](dst []T, arg []int32, src []T, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		b0 := 2 * oy * w
		r0, r1 := src[b0:][:2*ow], src[b0+w:][:2*ow]
		out, oa := dst[oy*ow:][:ow], arg[oy*ow:][:ow]
		for ox := range out {
			i := 2 * ox
			best, bi := r0[i], int32(b0+i)
			v := r0[i+1]
			bi += pick(v > best) * (int32(b0+i+1) - bi)
			best = max(best, v)
			v = r1[i]
			bi += pick(v > best) * (int32(b0+w+i) - bi)
			best = max(best, v)
			v = r1[i+1]
			bi += pick(v > best) * (int32(b0+w+i+1) - bi)
			out[ox], oa[ox] = max(best, v), bi
		}
	}
}

// max2x2 is maxPool2x2 without the winners, for inference.
func max2x2[T float32 | int64](dst []T, src []T, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0, r1 := src[2*oy*w:][:2*ow], src[(2*oy+1)*w:][:2*ow]
		out := dst[oy*ow:][:ow]
		for ox := range out {
			out[ox] = max(r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1])
		}
	}
}

// halves reports whether g is the common 2×2 window with stride 2 and no
// padding, whose windows do not overlap.
func (g poolGeom) halves() bool {
	return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 &&
		g.ph == 0 && g.pw == 0 && 2*g.oh <= g.h && 2*g.ow <= g.w
}

// simdPool runs a 2×2 pool of float planes on the vector kernels where
// kernels is set, and reports whether it did.
func simdPool[T float32 | int64](kernels bool, y []T, arg []int32, x []T, g poolGeom) bool {
	dst, ok := any(y).([]float32)
	if !ok || !kernels {
		return false
	}
	src := any(x).([]float32)
	if arg == nil {
		kernel.Max2x2(dst, src, g.planes, g.h, g.w, g.oh, g.ow)
	} else {
		kernel.MaxArg2x2(dst, arg, src, g.planes, g.h, g.w, g.oh, g.ow)
	}
	return true
}

// pick is 1 for true and 0 for false, without a branch.
func pick(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}

// indexTensor turns plane offsets into the Indices output: flat offsets in
// the whole input, row- or column-major within each plane as storage_order
// says.
func (m *maxPool) indexTensor(arg []int32, g poolGeom, shape []int) *Tensor {
	hw, ohw := g.h*g.w, g.oh*g.ow
	idx := make([]int64, len(arg))
	for k, a := range arg {
		off := int64(k/ohw) * int64(hw)
		switch {
		case a < 0:
			idx[k] = -1
		case m.columnMajor:
			idx[k] = off + int64(int(a)%g.w*g.h+int(a)/g.w)
		default:
			idx[k] = off + int64(a)
		}
	}
	return NewInts(append([]int(nil), shape...), idx)
}

func (m *maxPool) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(maxPoolSaved)
	if !ok {
		return nil, fmt.Errorf("MaxPool: backward without a forward pass")
	}
	if a.arg == nil { // integer input, not quantized
		return []*Tensor{nil}, nil
	}
	dx := s.alloc(true, append([]int(nil), a.xs...)...)
	hw, ohw := a.g.h*a.g.w, a.g.oh*a.g.ow
	forChunks(a.g.planes, hw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			d, gy := dx.Data[p*hw:(p+1)*hw], dy[0].Data[p*ohw:(p+1)*ohw]
			for k, i := range a.arg[p*ohw : (p+1)*ohw] {
				if i >= 0 {
					d[i] += gy[k]
				}
			}
		}
	})
	return []*Tensor{dx}, nil
}
