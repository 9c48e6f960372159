package ops

import "runtime"

// densePoolGrad is a fused Conv and MaxPool's backward on the direct
// kernels: each sample's gradient at the Conv's output is rebuilt from the
// pooled gradient and the winners (unpool), straight into the padded
// layout the flipped convolution reads for dX, and as the output is laid
// out for dW.
type densePoolGrad struct{}

// densePoolStep is one backward pass: the flipped convolution for dX, the
// weight-gradient plan for dW, and per worker dY for the weights (dycs),
// dY padded for the flipped convolution and its wide output, and gradW's
// scratch.
type densePoolStep struct {
	sv                  convPoolSaved
	fplan, wplan        *directPlan
	wf                  []float32
	dycs, xpads, wides  [][]float32
	wscrs, wrows, wsums [][]float32
}

func (densePoolGrad) backward(s *State, dy *Tensor, sv convPoolSaved) []*Tensor {
	a := sv.a
	needX, needW, needB := s.Needs(0), s.Needs(1), a.b != nil && s.Needs(2)
	workers := min(a.n, runtime.GOMAXPROCS(0))
	st := newDensePoolStep(s, sv, workers, needX, needW)
	defer st.release(s)
	sums := newConvSums(s, a.w, workers, needW, true, needB)
	defer sums.release(s)
	grads := make([]*Tensor, 2, 3)
	if needX {
		grads[0] = s.alloc(false, a.x.Shape...)
	}
	if needW {
		grads[1] = &Tensor{Shape: append([]int(nil), a.w.Shape...), Data: sums.dws[0]}
	}
	if needB {
		grads = append(grads, &Tensor{Shape: []int{a.m}, Data: sums.dbs[0]})
	}
	mg, pohw := a.m/a.group, sv.pg.oh*sv.pg.ow
	pooled := s.Saved(2)
	forSamples(a.n, workers, needW || needB, func(wk, i int) {
		for gr := range a.group {
			at := (i*a.group + gr) * mg * pohw
			w := winners{dp: dy.Data[at:][:mg*pohw], pv: pooled.Data[at:][:mg*pohw], arg: sv.arg[at:][:mg*pohw],
				relu: a.relu, mg: mg, poh: sv.pg.oh, pow: sv.pg.ow, rs: sv.rows}
			if needB {
				for ch := range mg {
					sums.dbs[wk][gr*mg+ch] += maskedSum(w.dp[ch*pohw:][:pohw], w.pv[ch*pohw:][:pohw], a.relu)
				}
			}
			var dx, dw []float32
			if needX {
				dx = grads[0].Data
			}
			if needW {
				dw = sums.dws[wk]
			}
			st.group(wk, i, gr, dx, dw, w)
		}
	})
	sums.add()
	return grads
}

func newDensePoolStep(s *State, sv convPoolSaved, workers int, needX, needW bool) *densePoolStep {
	a, g := sv.a, sv.a.g
	mg, ohw := a.m/a.group, g.oh*g.ow
	st := &densePoolStep{sv: sv}
	st.dycs, st.xpads, st.wides = make([][]float32, workers), make([][]float32, workers), make([][]float32, workers)
	st.wscrs, st.wrows, st.wsums = make([][]float32, workers), make([][]float32, workers), make([][]float32, workers)
	if needX {
		st.wf = s.scratch(a.w.Len())
		flipWeights(a.kernels, st.wf, a.w.Data, a.group, mg, g)
		st.fplan = planDirect(s, g.flipped(mg), st.wf, nil, g.c, a.group, false)
	}
	if needW {
		st.wplan = planDirect(s, g, nil, nil, mg, a.group, false)
	}
	for wk := range workers {
		if needX {
			st.xpads[wk], st.wides[wk] = s.scratch(st.fplan.xlen), s.scratch(max(st.fplan.wideLen(), 1))
		}
		if needW {
			// Zeroed once: each sample's unpool writes every position a
			// window covers, and the rest (an odd last row or column)
			// stays zero.
			st.dycs[wk] = s.Buffers.Get(mg*ohw, true)
			st.wscrs[wk], st.wrows[wk], st.wsums[wk] = s.scratch(st.wplan.scratchLen()), s.scratch(8*ohw), s.scratch(st.wplan.gradSums())
		}
	}
	return st
}

// group computes group gr of sample i on worker wk: dW into dw (the
// worker's share, nil where not wanted) and dX into dx (nil where not
// wanted), from the winners w.
func (st *densePoolStep) group(wk, i, gr int, dx, dw []float32, w winners) {
	a, g := st.sv.a, st.sv.a.g
	mg, k, ohw, hw := a.m/a.group, g.colRows(), g.oh*g.ow, g.h*g.w
	off := (i*a.xs[1] + gr*g.c) * hw
	if dw != nil {
		unpool(st.dycs[wk], unpoolDst{row: g.ow, plane: ohw, y1: g.oh, x1: g.ow}, w)
		st.wplan.gradW(dw[gr*mg*k:][:mg*k], st.dycs[wk], a.x.Data[off:][:g.c*hw], st.wscrs[wk], st.wrows[wk], st.wsums[wk])
	}
	if dx != nil {
		// Positions the flipped window's negative padding crops are
		// never read: left out.
		fp, gf := st.fplan, st.fplan.g
		clear(st.xpads[wk])
		unpool(st.xpads[wk], unpoolDst{base: gf.ph*fp.wp + gf.pw, row: fp.wp, plane: fp.hp * fp.wp,
			y0: max(0, -gf.ph), y1: min(g.oh, fp.hp-gf.ph), x0: max(0, -gf.pw), x1: min(g.ow, fp.wp-gf.pw)}, w)
		dst := dx[off:][:g.c*hw]
		res, rows, _ := fp.kernels(dst, st.xpads[wk], st.wides[wk], gr)
		fp.compact(dst, res, rows)
	}
}

func (st *densePoolStep) release(s *State) {
	if st.fplan != nil {
		st.fplan.release(s)
		s.Buffers.Put(st.wf)
	}
	putAll(s.Buffers, st.dycs, st.xpads, st.wides, st.wscrs, st.wrows, st.wsums)
}
