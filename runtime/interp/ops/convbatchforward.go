package ops

// The batch forward strategy: the forward pass of the batch strategy's
// windows (convbatch.go), the 1×1 convolutions over a 1×1 image that
// squeeze-and-excitation blocks are made of. With one pixel a sample, x
// is the batch's N×C matrix and Y = X·Wᵀ one product, where the direct
// kernel runs each sample as a matrix-vector product over the weights
// packed again: MobileNet-V3-Large's 240→960 and 960→240 layers took
// 1.1-1.3 ms each at batch 16, 8 ms of a 206 ms FGSM pass in all
// (per-node timer, 2-core AMD EPYC). W, M×C as exported, is the product's
// transposed operand, which the matrix multiply reads as dot products of
// rows at small batches (gemm's dot path) with no transposed copy. It
// takes windows only on the vector kernels, as the direct strategy it
// replaces there does, so which convolutions run on the vector kernels,
// and with it the engine Auto picks (gradengine.Prefer), does not change.
func init() {
	registerConvStrategy(convStrategy{name: "batch forward", rank: 70, vector: true,
		forward: batchFor(func(k convKey) convForward {
			if !k.kernels {
				return nil
			}
			return batchForward{}
		}),
	})
}

type batchForward struct{}

// forward writes Y = X·Wᵀ, plus the bias, through the fused Relu: each
// sample's row is its m channels of one pixel, as im2col's biasRelu takes
// them.
func (batchForward) forward(s *State, a convArgs, y *Tensor) {
	n, m := a.n, a.m
	s.gemm(false, true, n, m, a.g.c, 1, a.x.Data, a.w.Data, 0, y.Data)
	for i := range n {
		biasRelu(y.Data[i*m:][:m], a.bias(), m, 1, a.relu)
	}
}
