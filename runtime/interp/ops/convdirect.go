package ops

import (
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// The direct strategy: where the vector kernels run (directconv.go), a
// unit-stride convolution reads its padded input with neither im2col nor
// a matrix multiply. dX, at unit stride, is the flipped convolution of dY
// on the same kernels, which then always wins; dW reads the padded input
// and dY (directPlan.gradW).
func init() {
	registerConvStrategy(convStrategy{name: "direct", rank: 100, vector: true,
		forward: func(k convKey) convForward {
			if !canDirect(k.kernels, k.g) {
				return nil
			}
			return directConv{}
		},
		inputGrad: func(k convKey) convGradient {
			if k.g.sh != 1 || k.g.sw != 1 || !canDirect(k.kernels, k.g.flipped(k.mg())) {
				return nil
			}
			return directInputGrad{}
		},
		weightGrad: func(k convKey) convGradient {
			if !canDirect(k.kernels, k.g) || smallPointwise(k.g) || narrowRows(k.g) {
				return nil
			}
			return directConv{}
		},
	})
}

// smallPointwise reports whether g is a 1×1 window over at most 14×14
// pixels, whose weight gradient a matrix multiply (the pointwise strategy,
// convpointwise.go, or im2col) computes faster: the gradient kernel's segments follow output rows, 16 lanes
// for 7 or 14 pixels, and it runs 8 channels a tile. At batch 16 on
// EfficientNet-B0's 1×1 layers (AVX-512, 2 cores) dW took 6.8 ms
// direct, 3.0 ms im2col at 7×7 (192→1152), 18.5 and 5.5 ms (320→1280),
// 5.9 and 4.0 ms at 14×14 (80→480); at 28×28 direct won (5.3 and 9.8
// ms, 40→240).
//
// One product over the whole batch, channel-major (x as c × n·p, so that
// Y = W·X, dX = Wᵀ·dY and dW = dY·Xᵀ run 784 columns at 7×7 instead of 49
// a sample), was measured and not kept: forward, dX and dW together at
// batch 16 took 15.4 against 15.8 ms at 7×7 (192→1152), 15.8 against
// 14.2 (1152→192), and 23.1 and 30.3 against 15.1 and 17.3 ms at 14×14
// (112→672, 672→112), the layout's copies costing what the wider
// product saved. For dW alone, where the per-sample product adds the
// whole of dW into itself once a sample, the pointwise strategy keeps it.
func smallPointwise(g geom2d) bool {
	return g.kh == 1 && g.kw == 1 && g.oh*g.ow <= 14*14
}

// narrowRows reports whether g's output rows fill less than half of the
// gradient kernel's 16 lanes (ResNet-50's last stage, 7×7), where its
// weight gradient, whose segments follow rows, runs faster on im2col. At
// batch 16, 3×3 512→512 at 7×7 (AVX-512, 2 cores): dW took 71.7 ms
// direct, 36.0 ms im2col; at 14×14 (256→256) 29.6 and 28.0 ms.
func narrowRows(g geom2d) bool {
	return g.ow < kernel.Lanes/2
}

type directConv struct{}

func (directConv) forward(s *State, a convArgs, y *Tensor) {
	mg, ohw := a.m/a.group, a.g.oh*a.g.ow
	plan, rest, ok := planWithRest(s, a.g, a.w.Data, a.bias(), mg, a.group, a.relu, true)
	defer plan.release(s)
	if ok {
		rest.run(s, plan, y.Data, a.x.Data, a.n, ohw, nil)
	}
	directSamples(s, plan, a, 0, func(i, gr int, img, scratch []float32) {
		plan.run(y.Data[(i*a.group+gr)*mg*ohw:][:mg*ohw], img, scratch, gr)
		if gr == a.group-1 {
			a.finishSample(i)
		}
	})
}

// streams: directSamples runs a sample's groups on one worker.
func (directConv) streams(a convArgs) bool { return samplesStream(a) }

// directSamples runs each(i, gr, img, scratch) for every sample i and
// group gr on the direct kernel's workers, img the group's input and
// scratch the worker's, of the plan's scratchLen plus extra.
func directSamples(s *State, plan *directPlan, a convArgs, extra int, each func(i, gr int, img, scratch []float32)) {
	workers := min(a.n, runtime.GOMAXPROCS(0))
	scratch := make([][]float32, workers)
	for wk := range scratch {
		scratch[wk] = s.scratch(plan.scratchLen() + extra)
	}
	defer putAll(s.Buffers, scratch)
	chw := a.g.c * a.g.h * a.g.w
	forSamples(a.n, workers, false, func(wk, i int) {
		for gr := range a.group {
			each(i, gr, a.x.Data[(i*a.group+gr)*chw:][:chw], scratch[wk])
		}
	})
}

// begin, for the weights' gradient: dW += dY ⋆ x on the kernel.
func (directConv) begin(s *State, a convArgs, workers int, _ gemmFunc) convStep {
	ohw := a.g.oh * a.g.ow
	st := directWeights{plan: planDirect(s, a.g, nil, nil, a.m/a.group, a.group, false),
		pad: make([][]float32, workers), rows: make([][]float32, workers), sums: make([][]float32, workers)}
	for wk := range workers {
		st.pad[wk], st.rows[wk], st.sums[wk] = s.scratch(st.plan.scratchLen()), s.scratch(8*ohw), s.scratch(st.plan.gradSums())
	}
	return st
}

type directWeights struct {
	plan            *directPlan
	pad, rows, sums [][]float32
}

func (st directWeights) group(wk, _ int, dw, dy, x []float32) {
	st.plan.gradW(dw, dy, x, st.pad[wk], st.rows[wk], st.sums[wk])
}

func (st directWeights) release(s *State) { putAll(s.Buffers, st.pad, st.rows, st.sums) }

// directInputGrad computes dX = W̃ ⋆ dY, the flipped convolution, on the
// kernel.
type directInputGrad struct{}

func (directInputGrad) begin(s *State, a convArgs, workers int, _ gemmFunc) convStep {
	st, rest, ok := beginDirectInput(s, a, workers, true)
	if ok {
		return directInputRest{st, rest}
	}
	return st
}

// beginDirectInput readies dX on the direct kernel for workers; where
// rest is allowed and the flipped window has pixels past its last whole
// segment (convpointrest.go), the plan leaves them to the pointRest it
// returns (ok true), which the caller must run (directInputRest does, as
// its raw batch part).
func beginDirectInput(s *State, a convArgs, workers int, rest bool) (st directInput, r pointRest, ok bool) {
	mg := a.m / a.group
	st = directInput{wf: s.scratch(a.w.Len()), padded: make([][]float32, workers)}
	flipWeights(a.kernels, st.wf, a.w.Data, a.group, mg, a.g)
	st.plan, r, ok = planWithRest(s, a.g.flipped(mg), st.wf, nil, a.g.c, a.group, false, rest)
	for wk := range workers {
		st.padded[wk] = s.scratch(st.plan.scratchLen())
	}
	return st, r, ok
}

type directInput struct {
	plan   *directPlan
	wf     []float32
	padded [][]float32
}

// directInputRest is directInput whose plan leaves each plane's last
// pixels, rest, to one convolution over the batch, which runs first
// (convBackward runs a step's raw batch part before its groups).
type directInputRest struct {
	directInput
	rest pointRest
}

// rawBatch writes the rest pixels of dX, on the flipped weights, from
// the rest pixels of dy taken through the fused Relu, Clip or gate one
// by one: a few of each plane's, where a pass would make all of dY's.
func (st directInputRest) rawBatch(s *State, a convArgs, dx, dy []float32) {
	st.rest.run(s, st.plan, dx, dy, a.n, a.g.h*a.g.w, a.throughAt)
}

func (st directInput) group(wk, gr int, dx, dy, _ []float32) {
	st.plan.run(dx, dy, st.padded[wk], gr)
}

func (st directInput) release(s *State) {
	st.plan.release(s)
	s.Buffers.Put(st.wf)
	putAll(s.Buffers, st.padded)
}
