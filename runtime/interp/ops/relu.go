package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

func init() { register("Relu", 6, func(*Node) (Op, error) { return relu{}, nil }) }

type relu struct{}

// Forward keeps, for the backward pass, one bit per element (y > 0)
// instead of y itself: a thirty-second of the memory, so a gradient pass
// over a deep network holds its Relus' masks, not their outputs.
func (relu) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	y := s.alloc(false, x.Shape...)
	if !s.Grad {
		forChunks(len(x.Data), 1, func(lo, hi int) {
			for i, v := range x.Data[lo:hi] {
				y.Data[lo+i] = max(v, 0)
			}
		})
		s.SetAux(reluMask(nil))
		return []*Tensor{y}, nil
	}
	mask, mk := s.masks((len(x.Data)+63)/64), kernel.Masks(s.Kernels)
	forChunks(len(mask), 64, func(lo, hi int) {
		end := min(64*hi, len(x.Data))
		mk.Relu(y.Data[64*lo:end], x.Data[64*lo:end], mask[lo:hi])
	})
	s.SetAux(mask)
	return []*Tensor{y}, nil
}

func (relu) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	mask, _ := s.Aux().(reluMask)
	if dy[0] == nil || len(mask) != (len(dy[0].Data)+63)/64 {
		return []*Tensor{nil}, nil
	}
	dx := s.alloc(false, dy[0].Shape...)
	mask.grad(kernel.Masks(s.Kernels), dx.Data, dy[0].Data)
	return []*Tensor{dx}, nil
}

// reluMask holds one bit per element of a Relu's output: set where the
// output is positive, where the gradient passes. The vector kernels write
// and read it (kernel.MaskKernels) where the node takes them.
type reluMask []uint64

// grad writes dx = dy where the mask is set and 0 elsewhere, in chunks
// of whole words on the thread team.
func (m reluMask) grad(mk kernel.MaskKernels, dx, dy []float32) {
	forChunks(len(m), 64, func(lo, hi int) {
		end := min(64*hi, len(dx))
		mk.Pass(dx[64*lo:end], dy[64*lo:end], m, 64*lo)
	})
}

// A Conv applies a Relu on its output while the output is still in
// cache, saving a pass over memory each way.
func init() {
	registerFusion(Fusion{Name: "Conv+Relu", First: "Conv", Then: "Relu",
		Join: func(first, _ Op, _ [][]int, _ bool) (Op, bool) { return fuseRelu(first) }})
}

// fuseRelu returns an Op computing op and then a Relu of its one output,
// for the ops that can apply the Relu while the output is still in cache
// (Conv); ok is false for the others. The fused Op has op's inputs and
// the Relu's output.
func fuseRelu(op Op) (fused Op, ok bool) {
	// A Conv with a Clip or a gate folded in keeps what their backward
	// reads; a Relu after it stays apart (it would overwrite the Clip's
	// mask with its own, and run before the gate).
	if c, ok := op.(*conv); ok && !c.relu && c.clip == nil && c.gate == nil {
		f := *c
		f.relu = true
		return &f, true
	}
	return nil, false
}
