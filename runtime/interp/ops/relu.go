package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

func init() { register("Relu", 6, func(*Node) (Op, error) { return relu{}, nil }) }

type relu struct{}

func (relu) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := s.alloc(false, x.Shape...)
	forChunks(len(x.Data), 1, func(lo, hi int) {
		for i, v := range x.Data[lo:hi] {
			y.Data[lo+i] = max(v, 0)
		}
	})
	s.Save(y)
	return []*Tensor{y}, nil
}

func (relu) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	y := s.Saved(0)
	dx := s.alloc(false, y.Shape...)
	forChunks(len(y.Data), 1, func(lo, hi int) {
		reluGrad(s.Kernels, dx.Data[lo:hi], dy[0].Data[lo:hi], y.Data[lo:hi])
	})
	return []*Tensor{dx}, nil
}

// reluGrad writes dx = dy where y > 0 and 0 elsewhere: the gradient
// through a Relu whose output was y.
func reluGrad(kernels bool, dx, dy, y []float32) {
	if kernels {
		kernel.ReluMask(dx, dy, y)
		return
	}
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, v := range y {
		// A multiply by 0 or 1 instead of a branch: which units are
		// active is random, so a branch mispredicts half the time.
		dx[i] = dy[i] * float32(pick(v > 0))
	}
}

// FuseRelu returns an Op computing op and then a Relu of its one output,
// for the ops that can apply the Relu while the output is still in cache
// (Conv); ok is false for the others. The fused Op has op's inputs and
// the Relu's output.
func FuseRelu(op Op) (fused Op, ok bool) {
	if c, ok := op.(*conv); ok && !c.relu {
		f := *c
		f.relu = true
		return &f, true
	}
	return nil, false
}
