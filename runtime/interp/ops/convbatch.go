package ops

// The batch strategy, for the gradients of the 1×1 convolutions over a
// 1×1 image that squeeze-and-excitation blocks are made of (EfficientNet,
// MobileNet-V3): with one pixel a sample, dY is the batch's N×M matrix and
// x its N×C, so each gradient of the whole batch is one product, dX = dY·W
// and dW = dYᵀ·X. Sample by sample, each is a matrix-vector product that
// packs the weights again for one column: 2.2 ms for each 960→240 layer's
// backward pass at batch 16 (MobileNet-V3-Large), a twentieth of that as
// one product. The forward pass stays on the other strategies (the direct
// kernel, one pixel a sample, is fast enough there), so that which
// convolutions run on the vector kernels, and with it the engine Auto
// picks (gradengine.Prefer), does not change.
func init() {
	registerConvStrategy(convStrategy{name: "batch", rank: 70,
		inputGrad:  batchFor(func(convKey) convGradient { return batchPart{} }),
		weightGrad: batchFor(func(convKey) convGradient { return batchPart{weights: true} }),
	})
}

// batchFor returns part for a 1×1 window over a 1×1 image whose one
// output pixel reads it (no top or left pads; strides and dilations then
// do not matter), in one group, and nil for the others.
func batchFor[T any](part func(convKey) T) func(convKey) T {
	return func(k convKey) T {
		var none T
		g := k.g
		if k.group != 1 || g.kh != 1 || g.kw != 1 || g.h != 1 || g.w != 1 || g.oh != 1 || g.ow != 1 || g.ph != 0 || g.pw != 0 {
			return none
		}
		return part(k)
	}
}

// batchPart is the input's gradient or, with weights set, the weights':
// its own convBatchStep, with no scratch to take or give back.
type batchPart struct{ weights bool }

func (p batchPart) begin(*State, convArgs, int, gemmFunc) convStep { return p }

func (batchPart) release(*State) {}

// batch writes dY·W to dst (dX) or dYᵀ·X (dW).
func (p batchPart) batch(s *State, a convArgs, dst, dy []float32) {
	if p.weights {
		s.gemm(true, false, a.m, a.g.c, a.n, 1, dy, a.x.Data, 0, dst)
		return
	}
	s.gemm(false, false, a.n, a.g.c, a.m, 1, dy, a.w.Data, 0, dst)
}
