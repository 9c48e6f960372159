package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// A gated activation y = x·g(x) reaches the interpreter as two nodes, g(x)
// and a Mul reading x beside it: SiLU (g the logistic sigmoid,
// EfficientNet) and HardSwish (g a HardSigmoid, MobileNet-V3 at opsets
// before 14). Apart, a gradient pass keeps x and g(x) and walks memory
// five times; fused, one pass writes y and keeps dy/dx alone, and the
// backward pass is one multiply.
func init() {
	registerFusion(Fusion{Name: "Sigmoid+Mul", First: "Sigmoid", Then: "Mul", Gate: true,
		Join: func(first, _ Op, _ [][]int, _ bool) (Op, bool) {
			// A fused gate keeps the Sigmoid's node: only the plain
			// Sigmoid joins, or x·σ(x)·x would fold to x·σ(x).
			_, ok := first.(unaryOp)
			return siluGate, ok
		}})
	registerFusion(Fusion{Name: "HardSigmoid+Mul", First: "HardSigmoid", Then: "Mul", Gate: true,
		Join: func(first, _ Op, _ [][]int, _ bool) (Op, bool) {
			h, ok := first.(hardSigmoid)
			return h.swishGate(), ok
		}})
}

// gate is y = x·g(x); run computes y and, where d is not nil, dy/dx for
// a slice of x, y as the Mul of the unfused graph computes it, so that
// inference gives the same bits: SiLU and HardSwish on the activation
// kernels (kernel.Acts) or their Go twins, GELU element by element
// (scalarGate).
type gate struct {
	run func(ak kernel.ActKernels, y, d, x []float32)
}

// scalarGate is the gate whose y and dy/dx at each x are fd's.
func scalarGate(fd func(x float32) (y, d float32)) gate {
	return gate{run: func(_ kernel.ActKernels, y, d, x []float32) {
		if d == nil {
			for i, v := range x {
				y[i], _ = fd(v)
			}
			return
		}
		for i, v := range x {
			y[i], d[i] = fd(v)
		}
	}}
}

// siluGate is x·σ(x), σ as Sigmoid computes it (kernel.Sigmoid).
var siluGate = gate{run: func(ak kernel.ActKernels, y, d, x []float32) { ak.SiLU(y, d, x) }}

func (o gate) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := s.alloc(false, x.Shape...)
	var d *Tensor
	if s.Grad && s.Needs(0) {
		d = s.alloc(false, x.Shape...)
	}
	o.apply(s.Kernels, y, d, x)
	if d == nil {
		d = &Tensor{Shape: x.Shape}
	}
	s.Save(d)
	return []*Tensor{y}, nil
}

// apply writes y = x·g(x) and, where d is not nil, d = dy/dx, on every
// core; y may be x.
func (o gate) apply(kernels bool, y, d, x *Tensor) {
	ak, n := kernel.Acts(kernels), len(x.Data)
	var dd []float32
	if d != nil {
		dd = d.Data
	}
	forChunks((n+63)/64, 64*4, func(lo, hi int) {
		lo, hi = 64*lo, min(64*hi, n)
		o.run(ak, y.Data[lo:hi], part(dd, lo, hi), x.Data[lo:hi])
	})
}

// part returns s[lo:hi], or nil where s is nil.
func part[T any](s []T, lo, hi int) []T {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

func (gate) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	d := s.Saved(0)
	if dy[0] == nil || d.Data == nil {
		return []*Tensor{nil}, nil
	}
	dx := s.alloc(false, d.Shape...)
	mulInto(dx.Data, dy[0].Data, d.Data)
	return []*Tensor{dx}, nil
}
