package ops

import (
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// convPool is a Conv, with its fused Relu if it has one, and the MaxPool
// with a 2×2 window and stride 2 that alone reads its output, run as one
// node on the direct kernel (fusePool). The Conv's full-size output, the
// largest activation of a CNN, never reaches memory as a tensor: each
// sample's stays in scratch while it is pooled. Backward rebuilds each
// sample's gradient at the Conv's output from the pooled gradient and the
// winners, straight into the padded layout the flipped convolution reads:
// the pool's gradient, the Relu mask (a winner's output is positive
// exactly when the pooled value is) and the padding in one pass, where
// the separate ops took three over the whole batch.
type convPool struct {
	c       *conv
	mp      *maxPool
	grad    poolGradient // the backward strategy for gradKey's window
	gradKey convKey
}

type convPoolSaved struct {
	a    convArgs
	pg   poolGeom
	rows int     // floats between rows of the layout arg counts in
	arg  []int32 // per pooled output, its winner's offset in that layout's plane
}

// PoolFusion names the Conv-MaxPool fusion, which tests turn off to
// compare.
const PoolFusion = "Conv+MaxPool"

func init() {
	registerFusion(Fusion{Name: PoolFusion, First: "Conv", Then: "MaxPool",
		Join: func(first, then Op, shapes [][]int, kernels bool) (Op, bool) {
			if len(shapes) < 2 {
				return nil, false
			}
			return fusePool(first, then, shapes[0], shapes[1], kernels)
		}})
}

// fusePool returns the op computing conv and then pool where they qualify:
// conv a 2-D Conv the direct kernel runs where kernels is set (the node's
// State.Kernels), pool a MaxPool
// with a 2×2 window, stride 2 and no padding whose Indices output is not
// used; xShape and wShape are the Conv's input and weight shapes (any
// batch). ok is false, and the ops stay apart, otherwise.
func fusePool(convOp, pool Op, xShape, wShape []int, kernels bool) (fused Op, ok bool) {
	c, isConv := convOp.(*conv)
	mp, isPool := pool.(*maxPool)
	if !isConv || !isPool || c.clip != nil || c.gate != nil || mp.indices || len(xShape) != 4 || len(wShape) != 4 {
		return nil, false
	}
	xs := append([]int{1}, xShape[1:]...)
	g, err := c.geometry(xs, wShape, false)
	if err != nil || !canDirect(kernels, g) || wShape[0] < 1 || !c.channelsMatch(xs, wShape) {
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
	a.kernels = s.Kernels
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
	directSamples(s, plan, a, extra, func(i, gr int, img, scratch []float32) {
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
	sv, ok := s.Aux().(convPoolSaved)
	if !ok {
		return nil, fmt.Errorf("Conv with MaxPool: backward without a forward pass")
	}
	return f.gradientFor(sv.a).backward(s, dy[0], sv), nil
}

// A poolGradient computes a fused Conv and MaxPool's gradients from the
// pooled output's: on the direct kernels (densePoolGrad) or, where each
// nonzero is cheaper than the dense convolutions, nonzero by nonzero
// (sparsePool).
type poolGradient interface {
	backward(s *State, dy *Tensor, sv convPoolSaved) []*Tensor
}

// gradientFor returns the backward strategy for the window of a: the
// one chosen last, where the window is the same.
func (f *convPool) gradientFor(a convArgs) poolGradient {
	if f.grad == nil || f.gradKey != a.key() {
		f.gradKey = a.key()
		f.grad = densePoolGrad{}
		if sp := sparseFor(a.g, a.group, a.m); sp != nil {
			f.grad = sp
		}
	}
	return f.grad
}

// winners are one group of one sample's pooled gradient and where it
// goes: each pooled gradient dp (mg planes of poh×pow) goes to its
// window's winner, at offset arg in a plane of rows rs floats apart,
// times the Relu mask (pooled value pv positive) when relu is set.
type winners struct {
	dp, pv           []float32
	arg              []int32
	relu             bool
	mg, poh, pow, rs int
}

// unpoolDst says where unpool writes: output pixel (oy, ox) of channel ch
// at base + ch·plane + oy·row + ox, for rows [y0, y1) and columns [x0,
// x1) alone.
type unpoolDst struct {
	base, row, plane int
	y0, y1, x0, x1   int
}

// unpool is scatterWinners on the vector kernel where nothing is cropped
// (it writes the windows' losers' zeros too, the same values). A convPool
// exists only where the kernels run.
func unpool(dst []float32, d unpoolDst, w winners) {
	if d.base >= 0 && d.y0 <= 0 && d.y1 >= 2*w.poh && d.x0 <= 0 && d.x1 >= 2*w.pow {
		kernel.Unpool2x2(dst[d.base:], w.dp, w.pv, w.arg, w.mg, w.poh, w.pow, w.rs, d.row, d.plane, w.relu)
		return
	}
	scatterWinners(dst, d, w)
}

// scatterWinners writes each pooled gradient to its winner in dst: the
// winner of window (py, px) is one of (2py, 2px), one right, one down or
// both. It serves where padding crops the destination; elsewhere the
// vector kernel does (unpool).
func scatterWinners(dst []float32, d unpoolDst, w winners) {
	for ch := range w.mg {
		for py := range w.poh {
			for px := range w.pow {
				q := (ch*w.poh+py)*w.pow + px
				v := w.dp[q]
				if w.relu {
					v = reluMasked(v, w.pv[q])
				}
				off := int(w.arg[q]) - 2*py*w.rs - 2*px // 0, 1, rs or rs+1
				down := int(uint64(w.rs-1-off) >> 63)
				oy, ox := 2*py+down, 2*px+off-down*w.rs
				if oy >= d.y0 && oy < d.y1 && ox >= d.x0 && ox < d.x1 {
					dst[d.base+ch*d.plane+oy*d.row+ox] = v
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
