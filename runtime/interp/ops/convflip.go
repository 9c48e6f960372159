package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// The flipped-im2col strategy for the input's gradient. With unit
// strides, dX is itself a convolution, of dY by the flipped weights
// (flipWeights). Its im2col copies mg·kh·kw rows of h·w values where
// col2im adds g.c·kh·kw rows of oh·ow into dX, and an add into scattered
// memory costs some two copies (on the CIFAR benchmark's layers): it wins
// unless the layer has many more outputs than inputs, as a network's
// first layer does.
func init() {
	registerConvStrategy(convStrategy{name: "flipped im2col", rank: 500,
		inputGrad: func(k convKey) convGradient {
			g := k.g
			if g.sh != 1 || g.sw != 1 || k.mg()*g.h*g.w > 2*g.c*g.oh*g.ow {
				return nil
			}
			return flipGrad{}
		},
	})
}

type flipGrad struct{}

func (flipGrad) begin(s *State, a convArgs, workers int, mul gemmFunc) convStep {
	mg := a.m / a.group
	gf := a.g.flipped(mg)
	st := flipStep{im2colStep: newIm2colStep(s, a, workers, mul, gf.colRows()*a.g.h*a.g.w), gf: gf}
	st.wf = s.scratch(a.w.Len())
	flipWeights(a.kernels, st.wf, a.w.Data, a.group, mg, a.g)
	return st
}

type flipStep struct {
	*im2colStep
	gf geom2d
	wf []float32 // the flipped weights
}

func (st flipStep) group(wk, gr int, dx, dy, _ []float32) {
	g, kf := st.a.g, st.gf.colRows()
	im2col(st.cols[wk], dy, st.gf)
	st.mul(false, false, g.c, g.h*g.w, kf, 1, st.wf[gr*g.c*kf:][:g.c*kf], st.cols[wk], 0, dx)
}

func (st flipStep) release(s *State) {
	s.Buffers.Put(st.wf)
	st.im2colStep.release(s)
}

// flipWeights writes to wf, for each group, the weights of the convolution
// that maps dY to dX at unit stride: g.c rows of mg·kh·kw, input and output
// channels swapped and each kernel turned 180°. For a 1×1 kernel that is
// a transpose of each group's mg×c weights, in 16×16 blocks (on the
// vector kernel where vector is set): element by element, the writes a
// row apart, it took 0.8 ms for a 960→160 layer's 153,600 weights, once
// every backward pass.
func flipWeights(vector bool, wf, w []float32, group, mg int, g geom2d) {
	khw := g.kh * g.kw
	if khw == 1 {
		tr, size := kernel.Transposes(vector), mg*g.c
		for gr := range group {
			tr.Matrix(wf[gr*size:], w[gr*size:], mg, g.c, mg, g.c)
		}
		return
	}
	for gr := range group {
		for o := range mg {
			for ci := range g.c {
				src := w[((gr*mg+o)*g.c+ci)*khw:][:khw]
				dst := wf[((gr*g.c+ci)*mg+o)*khw:][:khw]
				for j := range dst {
					dst[j] = src[khw-1-j]
				}
			}
		}
	}
}
