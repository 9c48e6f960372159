package ops

import "fmt"

// MaxPool's later versions only add attributes (storage_order and the
// Indices output at 8, ceil_mode and dilations at 10) whose defaults keep
// the earlier behaviour, so one registration serves them all.
func init() { register("MaxPool", 1, newMaxPool) }

// maxPool takes the maximum of each window; the first maximum in row-major
// window order wins ties and alone receives the gradient.
type maxPool struct {
	pooling
	columnMajor bool          // storage_order=1: Indices count down columns
	indices     bool          // the node asks for the Indices output
	kernel      maxPoolKernel // the planner's choice for kernelGeom
	kernelGeom  poolGeom
}

// A maxPoolKernel pools planes of one window one way, writing each
// window's maximum to y and, when arg is not nil, the winner's offset in
// its plane; the first maximum in row-major window order wins. The
// planner (planMaxPool) picks the 2×2 kernels (maxpool2x2.go) where they
// take the window, the general loop (maxpoolwindow.go) elsewhere.
type maxPoolKernel interface {
	floats(y []float32, arg []int32, x []float32, g poolGeom)
	ints(y []int64, arg []int32, x []int64, g poolGeom)
}

// planMaxPool picks the kernel for window g (any number of planes).
func planMaxPool(g poolGeom, kernels bool) maxPoolKernel {
	switch {
	case g.halves() && kernels:
		return vectorHalves{}
	case g.halves():
		return halves{}
	}
	return windowMax{}
}

// kernelFor returns the kernel for window g on a node that takes the
// vector kernels where kernels is set (State.Kernels, the same on every
// run of a program): the one planned last, where the window is the same
// but for its number of planes, or a new one.
func (m *maxPool) kernelFor(g poolGeom, kernels bool) maxPoolKernel {
	key := g
	key.planes = 0
	if m.kernel == nil || m.kernelGeom != key {
		m.kernel, m.kernelGeom = planMaxPool(key, kernels), key
	}
	return m.kernel
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
		m.kernelFor(g, false).ints(y.Ints, arg, x.Ints, g)
	} else {
		y = s.alloc(false, shape...)
		k := m.kernelFor(g, s.Kernels)
		hw := g.h * g.w
		forChunks(g.planes, hw, func(lo, hi int) {
			part := g
			part.planes = hi - lo
			var a []int32
			if arg != nil {
				a = arg[lo*ohw : hi*ohw]
			}
			k.floats(y.Data[lo*ohw:hi*ohw], a, x.Data[lo*hw:hi*hw], part)
		})
	}
	outs := []*Tensor{y}
	if m.indices {
		outs = append(outs, m.indexTensor(arg, g, shape))
	}
	s.SetAux(maxPoolSaved{g: g, xs: x.Shape, arg: arg})
	return outs, nil
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
