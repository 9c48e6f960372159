package ops

import (
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

func init() {
	register("Clip", 6, newClipAttrs)                                    // min and max attributes
	register("Clip", 11, func(*Node) (Op, error) { return clip{}, nil }) // min and max optional inputs
}

// clip limits X to [min, max]. Before opset 11 the bounds are attributes;
// from 11 they are optional scalar inputs, either of which may be omitted.
type clip struct {
	attrs  bool
	lo, hi float32
}

type clipSaved struct {
	lo, hi     float32
	loIn, hiIn *Tensor // the bound inputs, nil when absent
	// pass has one bit per element, set where the output is x's own
	// value and the gradient passes to x (a ReLU6 keeps this, not x; a
	// NaN passes none, as in PyTorch);
	// nil where a bound's gradient is wanted too and x is kept instead.
	pass reluMask
}

func newClipAttrs(n *Node) (Op, error) {
	lo, err := n.Float("min", -math.MaxFloat32)
	if err != nil {
		return nil, err
	}
	hi, err := n.Float("max", math.MaxFloat32)
	if err != nil {
		return nil, err
	}
	if !(lo <= hi) { // NaN too; ONNX Runtime refuses both
		return nil, fmt.Errorf("min=%g, max=%g: min must not exceed max", lo, hi)
	}
	return clip{attrs: true, lo: lo, hi: hi}, nil
}

func (c clip) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("input 0 (input) is missing")
	}
	x := in[0]
	if x.IsInt() {
		return c.forwardInts(in)
	}
	sv := clipSaved{lo: c.lo, hi: c.hi}
	if !c.attrs {
		lo, err := clipBound(in, 1)
		if err != nil {
			return nil, err
		}
		hi, err := clipBound(in, 2)
		if err != nil {
			return nil, err
		}
		sv.lo, sv.hi, sv.loIn, sv.hiIn = float32(math.Inf(-1)), float32(math.Inf(1)), lo, hi
		if lo != nil {
			sv.lo = lo.Data[0]
		}
		if hi != nil {
			sv.hi = hi.Data[0]
		}
	}
	y := s.alloc(false, x.Shape...)
	boundsWanted := sv.loIn != nil && s.Needs(1) || sv.hiIn != nil && s.Needs(2)
	if s.Grad && !boundsWanted {
		sv.pass = s.masks((len(x.Data) + 63) / 64)
	}
	clipInto(s.Kernels, sv.pass, y.Data, x.Data, sv.lo, sv.hi)
	if sv.pass != nil {
		x = &Tensor{Shape: x.Shape}
	}
	s.Save(x)
	s.SetAux(sv)
	return []*Tensor{y}, nil
}

// clipInto writes y = min(max(x, lo), hi) (y may be x) on every core,
// and, where m is not nil (a word for every 64 values of x), the bit mask
// of where the gradient passes to x (y = x; a NaN passes none) to m.
func clipInto(vector bool, m reluMask, y, x []float32, lo, hi float32) {
	ak := kernel.Acts(vector)
	forChunks((len(x)+63)/64, 64, func(k0, k1 int) {
		lo64, hi64 := 64*k0, min(64*k1, len(x))
		ak.Clip(y[lo64:hi64], x[lo64:hi64], part(m, k0, k1), lo, hi)
	})
}

// clipBound returns bound input i, nil when omitted.
func clipBound(in []*Tensor, i int) (*Tensor, error) {
	if i >= len(in) || in[i] == nil {
		return nil, nil
	}
	t := in[i]
	if t.Len() != 1 {
		return nil, fmt.Errorf("bound %d has shape %v, want a scalar", i, t.Shape)
	}
	if t.IsInt() != in[0].IsInt() {
		return nil, fmt.Errorf("bound %d is %v but the input is %v", i, t, in[0])
	}
	return t, nil
}

func (c clip) forwardInts(in []*Tensor) ([]*Tensor, error) {
	if c.attrs {
		return nil, fmt.Errorf("%w: Clip on integers before opset 12", ErrUnsupported)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	for i, b := range [2]*int64{&lo, &hi} {
		t, err := clipBound(in, i+1)
		if err != nil {
			return nil, err
		}
		if t != nil {
			*b = t.Ints[0]
		}
	}
	x := in[0]
	y := NewInts(append([]int(nil), x.Shape...), make([]int64, len(x.Ints)))
	for i, v := range x.Ints {
		y.Ints[i] = min(max(v, lo), hi)
	}
	return []*Tensor{y}, nil
}

// Backward sends each gradient to whichever of x, min and max the output
// took its value from.
func (c clip) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	x := s.Saved(0)
	sv := s.Aux().(clipSaved)
	if sv.pass != nil {
		dx := s.alloc(false, x.Shape...)
		sv.pass.grad(kernel.Masks(s.Kernels), dx.Data, dy[0].Data)
		return []*Tensor{dx, nil, nil}, nil
	}
	dx := like(x)
	var glo, ghi float32
	for i, g := range dy[0].Data {
		switch v := x.Data[i]; {
		case max(v, sv.lo) > sv.hi:
			ghi += g
		case v < sv.lo:
			glo += g
		default:
			dx.Data[i] = g
		}
	}
	grads := []*Tensor{dx, nil, nil}
	if sv.loIn != nil && s.Needs(1) {
		grads[1] = like(sv.loIn)
		grads[1].Data[0] = glo
	}
	if sv.hiIn != nil && s.Needs(2) {
		grads[2] = like(sv.hiIn)
		grads[2].Data[0] = ghi
	}
	return grads, nil
}
