package ops

import "math"

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
	var mask reluMask
	if s.Grad {
		mask = make(reluMask, (len(x.Data)+63)/64)
	}
	forChunks(len(mask), 64, func(lo, hi int) { mask.set(y.Data, x.Data, lo, hi) })
	if mask == nil {
		forChunks(len(x.Data), 1, func(lo, hi int) {
			for i, v := range x.Data[lo:hi] {
				y.Data[lo+i] = max(v, 0)
			}
		})
	}
	s.SetAux(mask)
	return []*Tensor{y}, nil
}

func (relu) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	mask, _ := s.Aux().(reluMask)
	if dy[0] == nil || len(mask) != (len(dy[0].Data)+63)/64 {
		return []*Tensor{nil}, nil
	}
	dx := s.alloc(false, dy[0].Shape...)
	forChunks(len(mask), 64, func(lo, hi int) { mask.grad(dx.Data, dy[0].Data, lo, hi) })
	return []*Tensor{dx}, nil
}

// reluMask holds one bit per element of a Relu's output: set where the
// output is positive, where the gradient passes.
type reluMask []uint64

// set writes y = max(x, 0) and the mask's words lo to hi.
func (m reluMask) set(y, x []float32, lo, hi int) {
	for k := lo; k < hi; k++ {
		end := min(64*k+64, len(x))
		for i, v := range x[64*k : end] {
			y[64*k+i] = max(v, 0)
		}
		m[k] = maskWord(y[64*k : end])
	}
}

// grad writes dx = dy where the mask is set and 0 elsewhere, for the
// elements of words lo to hi.
func (m reluMask) grad(dx, dy []float32, lo, hi int) {
	end := min(64*hi, len(dx))
	m.gradFrom(dx[64*lo:end], dy[64*lo:end], 64*lo)
}

// newReluMask returns the mask of y > 0, for an op that applied the Relu
// itself (a Conv with the Relu fused).
func newReluMask(y []float32) reluMask {
	m := make(reluMask, (len(y)+63)/64)
	forChunks(len(m), 64, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			m[k] = maskWord(y[64*k : min(64*k+64, len(y))])
		}
	})
	return m
}

// maskWord returns the bits of y > 0 for up to 64 values, y[0] the lowest.
// It compares without a branch, which on a network's random signs would
// mispredict half the time: v > 0 exactly when its bits u are 1 to
// 0x7F800000 (a positive float up to +Inf), so u−1 (wrapping at 0) is
// below 0x7F800000 and subtracting that borrows into bit 63.
func maskWord(y []float32) uint64 {
	var w uint64
	for j, v := range y {
		b := (uint64(math.Float32bits(v)-1) - 0x7F800000) >> 63
		w |= b << (j & 63)
	}
	return w
}

// gradFrom writes dx = dy where the mask is set, for the elements from
// start on: dx[j] and dy[j] are the element start+j.
func (m reluMask) gradFrom(dx, dy []float32, start int) {
	dy = dy[:len(dx)]
	j := 0
	for ; j < len(dx) && (start+j)&63 != 0; j++ { // up to a word's start
		i := start + j
		dx[j] = passIf(dy[j], m[i>>6]>>(i&63))
	}
	for k := (start + j) >> 6; j+64 <= len(dx); j, k = j+64, k+1 { // whole words
		w, d, g := m[k], dx[j:j+64], dy[j:j+64]
		for t := range d {
			d[t] = passIf(g[t], w>>(t&63))
		}
	}
	for ; j < len(dx); j++ {
		i := start + j
		dx[j] = passIf(dy[j], m[i>>6]>>(i&63))
	}
}

// passIf returns g where bit 0 of b is set and 0 elsewhere, selecting
// with a bit mask rather than a branch (which units are active is random,
// so a branch mispredicts half the time) or a conversion.
func passIf(g float32, b uint64) float32 {
	return math.Float32frombits(math.Float32bits(g) & -uint32(b&1))
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
	if c, ok := op.(*conv); ok && !c.relu {
		f := *c
		f.relu = true
		return &f, true
	}
	return nil, false
}
