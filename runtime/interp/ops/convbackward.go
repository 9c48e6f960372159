package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// convBackward is a Conv's backward pass on the parts plan chose: it
// runs the weights' and the input's gradient group by group of each
// sample on the same workers, so that a sample's dY (through the fused
// Relu, Clip or gate) is read while it is in cache, and sums dB on the
// way; a part that takes a whole sample at once (convSampleStep) runs
// before the groups, and one that takes the whole batch (convBatchStep)
// before the samples. An attack wants no dW and training no dX of the
// first layer; each is half the backward pass, and a part not wanted
// does not run.
func convBackward(s *State, plan *convPlan, a convArgs, dy *Tensor) []*Tensor {
	g, n, m := a.g, a.n, a.m
	mg, k, ohw, hw := m/a.group, g.colRows(), g.oh*g.ow, g.h*g.w
	needX, needW, needB := s.Needs(0), s.Needs(1), a.b != nil && s.Needs(2)
	workers, mul := s.sampleWorkers(n)
	var groupX, groupW convGroupStep  // dx and dw, where they run group by group
	var wholeX, wholeW convSampleStep // or a sample at a time
	var batchX, batchW convBatchStep  // or the whole batch at once
	grads := make([]*Tensor, 2, 3)
	var dxStep convStep
	if needX {
		dxStep = plan.dx.begin(s, a, workers, mul)
		defer dxStep.release(s)
		grads[0] = s.alloc(false, a.x.Shape...)
		groupX, wholeX, batchX = stepForms(dxStep)
	}
	if needW {
		dw := plan.dw.begin(s, a, workers, mul)
		defer dw.release(s)
		groupW, wholeW, batchW = stepForms(dw)
	}
	// A dW the whole batch computes at once has no per-worker shares.
	sums := newConvSums(s, a.w, workers, needW, batchW == nil, needB)
	defer sums.release(s)
	if needW {
		grads[1] = &Tensor{Shape: append([]int(nil), a.w.Shape...), Data: sums.dws[0]}
	}
	if needB {
		grads = append(grads, &Tensor{Shape: []int{m}, Data: sums.dbs[0]})
	}
	if rawX, ok := dxStep.(rawBatchStep); ok {
		rawX.rawBatch(s, a, grads[0].Data, dy.Data)
	}
	if batchX != nil || batchW != nil {
		batchBackward(s, a, dy.Data, batchX, batchW, grads, sums)
		if wholeX == nil && wholeW == nil && groupX == nil && groupW == nil && !needB {
			sums.add()
			return grads
		}
	}
	masked := make([][]float32, workers) // a sample's dY through the fused Relu, Clip or gate
	if a.mask != nil || a.gated != nil {
		for wk := range masked {
			masked[wk] = s.scratch(m * ohw)
		}
		defer putAll(s.Buffers, masked)
	}
	forSamples(n, workers, needW || needB, func(wk, i int) {
		dyi := a.through(masked[wk], dy.Data, i*m*ohw, m*ohw)
		if needB {
			for o := range m {
				sums.dbs[wk][o] += sumFloats(a.kernels, dyi[o*ohw:][:ohw])
			}
		}
		chw := a.xs[1] * hw
		if wholeW != nil {
			wholeW.sample(wk, sums.dws[wk], dyi, a.x.Data[i*chw:][:chw])
		}
		if wholeX != nil {
			wholeX.sample(wk, grads[0].Data[i*chw:][:chw], dyi, nil)
		}
		if groupW == nil && groupX == nil {
			return
		}
		for gr := range a.group {
			off := (i*a.xs[1] + gr*g.c) * hw
			gy := dyi[gr*mg*ohw:][:mg*ohw]
			if groupW != nil {
				groupW.group(wk, gr, sums.dws[wk][gr*mg*k:][:mg*k], gy, a.x.Data[off:off+g.c*hw])
			}
			if groupX != nil {
				groupX.group(wk, gr, grads[0].Data[off:off+g.c*hw], gy, nil)
			}
		}
	})
	sums.add()
	return grads
}

// stepForms returns the forms step takes: group by group, a sample at a
// time, the whole batch at once (nil for each it does not).
func stepForms(step convStep) (convGroupStep, convSampleStep, convBatchStep) {
	g, _ := step.(convGroupStep)
	w, _ := step.(convSampleStep)
	b, _ := step.(convBatchStep)
	return g, w, b
}

// throughAt returns v, dY's element i, through the fused Relu, Clip or
// gate: as through does, one element.
func (a convArgs) throughAt(i int, v float32) float32 {
	switch {
	case a.mask != nil:
		if a.mask[i/64]>>(i%64)&1 == 0 {
			return 0
		}
	case a.gated != nil:
		return v * a.gated.Data[i]
	}
	return v
}

// through returns dy[start:start+n] through the fused Relu, Clip or gate,
// written to buf; dy's own elements where there is none.
func (a convArgs) through(buf, dy []float32, start, n int) []float32 {
	dy = dy[start:][:n]
	if a.mask == nil && a.gated == nil {
		return dy
	}
	a.pass(buf[:n], dy, start)
	return buf[:n]
}

// pass writes dst = src through the fused Relu, Clip or gate, src being
// dY's elements from start on; dst may be src. Without one it writes
// nothing.
func (a convArgs) pass(dst, src []float32, start int) {
	switch {
	case a.mask != nil:
		kernel.Masks(a.kernels).Pass(dst, src, a.mask, start)
	case a.gated != nil:
		kernel.Acts(a.kernels).Mul(dst, src, a.gated.Data[start:][:len(dst)])
	}
}

// batchBackward runs the parts that take the whole batch at once, on dY
// through the fused Relu, Clip or gate.
func batchBackward(s *State, a convArgs, dy []float32, batchX, batchW convBatchStep, grads []*Tensor, sums convSums) {
	if a.mask != nil || a.gated != nil {
		buf := s.scratch(len(dy))
		defer s.Buffers.Put(buf)
		dy = a.through(buf, dy, 0, len(dy))
	}
	if batchW != nil {
		batchW.batch(s, a, sums.dws[0], dy)
	}
	if batchX != nil {
		batchX.batch(s, a, grads[0].Data, dy)
	}
}

// convSums are each worker's share of the sums over samples, dW and dB;
// the first worker's is the gradient itself. Shares are added in worker
// order, so that the result is the same every run. Without shareW the
// first worker alone has a dW: a part that takes the whole batch writes
// it.
type convSums struct {
	dws, dbs [][]float32 // nil where not wanted
}

func newConvSums(s *State, w *Tensor, workers int, needW, shareW, needB bool) convSums {
	c := convSums{dws: make([][]float32, workers), dbs: make([][]float32, workers)}
	for wk := range workers {
		if needW && (wk == 0 || shareW) {
			// The first worker's is the gradient the pass returns: from
			// the pool too, to which the result's Release gives it back.
			c.dws[wk] = s.Buffers.Get(w.Len(), true)
		}
		if needB {
			c.dbs[wk] = make([]float32, w.Shape[0])
		}
	}
	return c
}

func (c convSums) add() {
	addParts(c.dws)
	addParts(c.dbs)
}

func (c convSums) release(s *State) { putAll(s.Buffers, c.dws[1:]) }
