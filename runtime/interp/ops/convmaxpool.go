package ops

import (
	"fmt"
	"math"
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// convPool is a Conv, with its fused Relu if it has one, and the MaxPool
// with a 2×2 window and stride 2 that alone reads its output, run as one
// node on the direct kernel (FusePool). The Conv's full-size output, the
// largest activation of a CNN, never reaches memory as a tensor: each
// sample's stays in scratch while it is pooled. Backward rebuilds each
// sample's gradient at the Conv's output from the pooled gradient and the
// winners, straight into the padded layout the flipped convolution reads:
// the pool's gradient, the Relu mask (a winner's output is positive
// exactly when the pooled value is) and the padding in one pass, where
// the separate ops took three over the whole batch.
type convPool struct {
	c  *conv
	mp *maxPool
}

type convPoolSaved struct {
	a    convArgs
	pg   poolGeom
	rows int     // floats between rows of the layout arg counts in
	arg  []int32 // per pooled output, its winner's offset in that layout's plane
}

// FusePool returns the op computing conv and then pool where they qualify:
// conv a 2-D Conv the direct kernel runs where kernels is set (the
// node's State.Kernels), pool a MaxPool
// with a 2×2 window, stride 2 and no padding whose Indices output is not
// used; xShape and wShape are the Conv's input and weight shapes (any
// batch). ok is false, and the ops stay apart, otherwise.
func FusePool(convOp, pool Op, xShape, wShape []int, kernels bool) (fused Op, ok bool) {
	c, isConv := convOp.(*conv)
	mp, isPool := pool.(*maxPool)
	if !isConv || !isPool || mp.indices || len(xShape) != 4 || len(wShape) != 4 {
		return nil, false
	}
	xs := append([]int{1}, xShape[1:]...)
	g, err := c.geometry(xs, wShape, false)
	if err != nil || !canDirect(kernels, g) || !c.channelsMatch(xs, wShape) {
		return nil, false
	}
	pg, err := mp.geometry([]int{1, wShape[0], g.oh, g.ow})
	if err != nil || !pg.halves() {
		return nil, false
	}
	return &convPool{c: c, mp: mp}, true
}

func (f *convPool) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	c := f.c
	a, err := c.operands(in)
	if err != nil {
		return nil, err
	}
	g := a.g
	pg, err := f.mp.geometry([]int{a.n, a.m, g.oh, g.ow})
	if err != nil {
		return nil, err
	}
	if a.oneD || !canDirect(s.Kernels, g) || !pg.halves() {
		return nil, fmt.Errorf("Conv and MaxPool were fused for a window the input no longer has (%v)", a.xs)
	}
	mg := a.m / c.group
	// The pool reads rows and columns [0, 2·pooled size) of the Conv's
	// output: those alone are computed.
	plan := planDirectPart(s, g, 2*pg.oh, 2*pg.ow, a.w.Data, a.bias(), mg, c.group, c.relu)
	defer plan.release(s)
	pooled := s.alloc(false, a.n, a.m, pg.oh, pg.ow)
	pohw := pg.oh * pg.ow
	var arg []int32
	if s.Grad {
		arg = s.indices(pooled.Len())
	}
	extra := plan.pooledScratch()
	c.directSamples(s, plan, a, extra, func(i, gr int, img, scratch []float32) {
		at := (i*c.group + gr) * mg * pohw
		res, rows, planes := plan.conv(scratch[len(scratch)-extra:], img, scratch, gr)
		if arg == nil {
			kernel.Max2x2(pooled.Data[at:][:mg*pohw], res, mg, planes/rows, rows, pg.oh, pg.ow)
		} else {
			kernel.MaxArg2x2(pooled.Data[at:][:mg*pohw], arg[at:][:mg*pohw], res, mg, planes/rows, rows, pg.oh, pg.ow)
		}
	})
	rows, _ := plan.layout()
	s.Save(a.x, a.w, pooled)
	s.SetAux(convPoolSaved{a: a, pg: pg, rows: rows, arg: arg})
	return []*Tensor{pooled}, nil
}

func (f *convPool) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	c := f.c
	sv, ok := s.Aux().(convPoolSaved)
	if !ok {
		return nil, fmt.Errorf("Conv with MaxPool: backward without a forward pass")
	}
	a, g, pg := sv.a, sv.a.g, sv.pg
	if sp := sparseFor(g, c.group, a.m); sp != nil {
		return f.sparseBackward(s, dy, sv, sp)
	}
	x, w, pooled := s.Saved(0), s.Saved(1), s.Saved(2)
	n, m, mg, k := a.n, a.m, a.m/c.group, g.colRows()
	ohw, hw, pohw := g.oh*g.ow, g.h*g.w, pg.oh*pg.ow
	needX, needW, needB := s.Needs(0), s.Needs(1), a.b != nil && s.Needs(2)
	grads := make([]*Tensor, 2, 3)
	var fplan, wplan *directPlan
	if needX {
		gf := g.flipped(mg)
		wf := s.scratch(w.Len())
		defer s.Buffers.Put(wf)
		flipWeights(wf, w.Data, c.group, mg, g)
		fplan = planDirect(s, gf, wf, nil, g.c, c.group, false)
		defer fplan.release(s)
		grads[0] = s.alloc(false, x.Shape...)
	}
	if needW {
		wplan = planDirect(s, g, nil, nil, mg, c.group, false)
		grads[1] = like(w)
	}
	if needB {
		grads = append(grads, NewFloat(m))
	}
	workers := min(n, runtime.GOMAXPROCS(0))
	// Per worker: dY for the weights, dY padded for the flipped
	// convolution and its wide output, gradW's scratch, and the worker's
	// share of dW and dB (the first worker's is the gradient itself).
	dycs, xpads, wides := make([][]float32, workers), make([][]float32, workers), make([][]float32, workers)
	wscrs, wrows, wsums := make([][]float32, workers), make([][]float32, workers), make([][]float32, workers)
	dws, dbs := make([][]float32, workers), make([][]float32, workers)
	for wk := range workers {
		if needX {
			xpads[wk], wides[wk] = s.scratch(fplan.xlen), s.scratch(max(fplan.wideLen(), 1))
		}
		if needW {
			// Zeroed once: each sample's unpool writes every position a
			// window covers, and the rest (an odd last row or column)
			// stays zero.
			dycs[wk] = s.Buffers.Get(mg*ohw, true)
			wscrs[wk], wrows[wk], wsums[wk] = s.scratch(wplan.scratchLen()), s.scratch(8*ohw), s.scratch(wplan.gradSums())
			dws[wk] = grads[1].Data
			if wk > 0 {
				dws[wk] = s.Buffers.Get(w.Len(), true)
			}
		}
		if needB {
			dbs[wk] = grads[2].Data
			if wk > 0 {
				dbs[wk] = make([]float32, m)
			}
		}
	}
	defer putAll(s.Buffers, dycs, xpads, wides, wscrs, wrows, wsums, dws[1:])
	rs, gf := sv.rows, g
	if needX {
		gf = fplan.g
	}
	forSamples(n, workers, needW || needB, func(wk, i int) {
		for gr := range c.group {
			at := (i*c.group + gr) * mg * pohw
			dp, arg, pv := dy[0].Data[at:][:mg*pohw], sv.arg[at:][:mg*pohw], pooled.Data[at:][:mg*pohw]
			if needX {
				clear(xpads[wk])
			}
			// dY at the Conv's output is each window's gradient at its
			// winner (times the Relu's mask), zero elsewhere: for the
			// weights as the output is laid out, for the input padded
			// for the flipped convolution.
			if needB {
				for ch := range mg {
					dbs[wk][gr*mg+ch] += maskedSum(dp[ch*pohw:][:pohw], pv[ch*pohw:][:pohw], c.relu)
				}
			}
			if needW {
				unpool(dycs[wk], 0, g.ow, ohw, dp, pv, arg, c.relu, mg, pg.oh, pg.ow, rs, 0, g.oh, 0, g.ow)
			}
			if needX {
				// Positions the flipped window's negative padding crops
				// are never read: left out.
				y0, x0 := max(0, -gf.ph), max(0, -gf.pw)
				y1, x1 := min(g.oh, fplan.hp-gf.ph), min(g.ow, fplan.wp-gf.pw)
				unpool(xpads[wk], gf.ph*fplan.wp+gf.pw, fplan.wp, fplan.hp*fplan.wp, dp, pv, arg, c.relu, mg, pg.oh, pg.ow, rs, y0, y1, x0, x1)
			}
			if needW {
				img := x.Data[(i*a.xs[1]+gr*g.c)*hw:][:g.c*hw]
				wplan.gradW(dws[wk][gr*mg*k:][:mg*k], dycs[wk], img, wscrs[wk], wrows[wk], wsums[wk])
			}
			if needX {
				dx := grads[0].Data[(i*a.xs[1]+gr*g.c)*hw:][:g.c*hw]
				res, rows, _ := fplan.kernels(dx, xpads[wk], wides[wk], gr)
				fplan.compact(dx, res, rows)
			}
		}
	})
	addParts(dws)
	addParts(dbs)
	return grads, nil
}

// unpool is scatterWinners on the vector kernel where nothing is cropped
// (it writes the windows' losers' zeros too, the same values). A convPool
// exists only where the kernels run.
func unpool(dst []float32, base, row, plane int, dp, pv []float32, arg []int32, relu bool,
	mg, poh, pow, rs, y0, y1, x0, x1 int) {
	if base >= 0 && y0 <= 0 && y1 >= 2*poh && x0 <= 0 && x1 >= 2*pow {
		kernel.Unpool2x2(dst[base:], dp, pv, arg, mg, poh, pow, rs, row, plane, relu)
		return
	}
	scatterWinners(dst, base, row, plane, dp, pv, arg, relu, mg, poh, pow, rs, y0, y1, x0, x1)
}

// scatterWinners writes each pooled gradient dp (mg planes of poh×pow) to
// its winner in dst: the winner of window (py, px) is at offset arg in a
// plane of rows rs floats apart, one of (2py, 2px), one right, one down
// or both; it lands at dst[base + ch·plane + oy·row + ox], times the Relu
// mask (pooled value pv positive) when relu is set. Winners outside rows
// [y0, y1) and columns [x0, x1) are left out. It serves where padding
// crops the destination; elsewhere the vector kernel does (unpool).
func scatterWinners(dst []float32, base, row, plane int, dp, pv []float32, arg []int32, relu bool,
	mg, poh, pow, rs, y0, y1, x0, x1 int) {
	for ch := range mg {
		for py := range poh {
			for px := range pow {
				q := (ch*poh+py)*pow + px
				v := dp[q]
				if relu {
					v = reluMasked(v, pv[q])
				}
				off := int(arg[q]) - 2*py*rs - 2*px // 0, 1, rs or rs+1
				down := int(uint64(rs-1-off) >> 63)
				oy, ox := 2*py+down, 2*px+off-down*rs
				if oy >= y0 && oy < y1 && ox >= x0 && ox < x1 {
					dst[base+ch*plane+oy*row+ox] = v
				}
			}
		}
	}
}

// reluMasked is v where y > 0 and 0 elsewhere, without a branch: a
// positive float's bits are a positive int32, whose negation's sign,
// spread by the shift, is the mask.
func reluMasked(v, y float32) float32 {
	mask := uint32(-int32(math.Float32bits(y)) >> 31)
	return math.Float32frombits(math.Float32bits(v) & mask)
}

// maskedSum is the sum of dp, where pv is positive when relu is set, on
// the vector kernels: a fused Conv and MaxPool runs only on them.
func maskedSum(dp, pv []float32, relu bool) float32 {
	if relu {
		return kernel.SumWhere(dp, pv)
	}
	return kernel.Sum(dp)
}
