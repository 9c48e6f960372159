package ops

// The im2col strategy, which takes every window and is the reference the
// others are tested against: the forward pass unfolds each group of each
// sample (im2col) and multiplies by the weights; dW multiplies dY by the
// unfolded input; dX multiplies the weights' transpose by dY and folds the
// columns back (col2im), adding where windows overlap.
func init() {
	registerConvStrategy(convStrategy{name: "im2col", rank: 1000,
		forward:    func(convKey) convForward { return im2colConv{} },
		inputGrad:  func(convKey) convGradient { return col2imGrad{} },
		weightGrad: func(convKey) convGradient { return im2colConv{} },
	})
}

type im2colConv struct{}

func (im2colConv) forward(s *State, a convArgs, y *Tensor) {
	x, w, xs, g, n, m, group := a.x, a.w, a.xs, a.g, a.n, a.m, a.group
	ohw := g.oh * g.ow
	mg, k := m/group, g.colRows()
	workers, mul := s.sampleWorkers(n)
	cols := make([][]float32, workers)
	for wk := range cols {
		cols[wk] = s.scratch(k * ohw)
	}
	defer putAll(s.Buffers, cols)
	forSamples(n, workers, false, func(wk, i int) {
		for gr := 0; gr < group; gr++ {
			img := x.Data[(i*xs[1]+gr*g.c)*g.h*g.w:][:g.c*g.h*g.w]
			im2col(cols[wk], img, g)
			out := y.Data[(i*m+gr*mg)*ohw:][:mg*ohw]
			mul(false, false, mg, ohw, k, 1, w.Data[gr*mg*k:][:mg*k], cols[wk], 0, out)
		}
		// Bias and Relu while the sample's output is still in cache.
		biasRelu(y.Data[i*m*ohw:][:m*ohw], a.bias(), m, ohw, a.relu)
	})
}

// biasRelu adds the bias (nil for none) to each of the m channels of out,
// ohw values each, and applies the Relu where relu is set.
func biasRelu(out, bias []float32, m, ohw int, relu bool) {
	for o := 0; o < m; o++ {
		row := out[o*ohw:][:ohw]
		var bv float32
		if bias != nil {
			bv = bias[o]
		}
		switch {
		case relu:
			for j, v := range row {
				row[j] = max(v+bv, 0)
			}
		case bias != nil:
			for j := range row {
				row[j] += bv
			}
		}
	}
}

// im2colStep is a backward pass of an im2col part: one unfolding buffer
// per worker.
type im2colStep struct {
	a    convArgs
	mul  gemmFunc
	cols [][]float32
}

func newIm2colStep(s *State, a convArgs, workers int, mul gemmFunc, n int) *im2colStep {
	st := &im2colStep{a: a, mul: mul, cols: make([][]float32, workers)}
	for wk := range st.cols {
		st.cols[wk] = s.scratch(n)
	}
	return st
}

func (st *im2colStep) release(s *State) { putAll(s.Buffers, st.cols) }

// begin, for the weights' gradient: dW += dY · colsᵀ.
func (im2colConv) begin(s *State, a convArgs, workers int, mul gemmFunc) convStep {
	return &im2colWeights{newIm2colStep(s, a, workers, mul, a.g.colRows()*a.g.oh*a.g.ow)}
}

type im2colWeights struct{ *im2colStep }

func (st im2colWeights) group(wk, _ int, dw, dy, x []float32) {
	g := st.a.g
	im2col(st.cols[wk], x, g)
	st.mul(false, true, st.a.m/st.a.group, g.colRows(), g.oh*g.ow, 1, dy, st.cols[wk], 1, dw)
}

// col2imGrad computes dX = col2im(Wᵀ · dY).
type col2imGrad struct{}

func (col2imGrad) begin(s *State, a convArgs, workers int, mul gemmFunc) convStep {
	return col2imStep{newIm2colStep(s, a, workers, mul, a.g.colRows()*a.g.oh*a.g.ow)}
}

type col2imStep struct{ *im2colStep }

func (st col2imStep) group(wk, gr int, dx, dy, _ []float32) {
	g, mg, k := st.a.g, st.a.m/st.a.group, st.a.g.colRows()
	st.mul(true, false, k, g.oh*g.ow, mg, 1, st.a.w.Data[gr*mg*k:][:mg*k], dy, 0, st.cols[wk])
	clear(dx) // col2im adds
	col2im(dx, st.cols[wk], g)
}
