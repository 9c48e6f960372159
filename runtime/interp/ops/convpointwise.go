package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// The pointwise strategy, for the weight gradient of the 1×1 convolutions
// over small planes that MobileNet's and EfficientNet's last stages are
// made of (7×7 and 14×14, 96 to 1280 channels). Sample by sample, dW +=
// dY·Xᵀ is a product with an inner dimension of 49 or 196 pixels, whose
// result, the whole M×C of dW, is added into dW again for every sample:
// MobileNet-V2's 320→1280 layer at batch 16 took 10 ms for its dW, twice
// its forward pass. Here the batch is laid out channel-major first, dY as
// M rows of N·P (each channel's pixels, sample after sample) and x as
// N·P rows of C (each pixel's channels, 16×16 blocks at a time), so that
// dW is one product, dY·X, over N·P terms. At batch 16 (2-core AMD EPYC,
// gonum build, BenchmarkConvPointwise, two runs) dW took 9.3-11.1 against
// 6.6-8.7 ms for that layer, 4.1-4.7 against 2.8-3.3 at 960→160 and
// 2.2-3.2 against 1.6-1.9 at 14×14 (384→64); a training pass's whole
// backward through each layer (dX, dW and dB) 16.0-17.8 against
// 13.5-14.6, 6.6-7.7 against 5.7-6.6, and 3.6-5.0 against 3.9-4.1. With
// few input channels the product is narrow and the layout's copies cost
// more than it saves (64→384 at 14×14: dW 1.8 against 2.0 ms, the whole
// backward 3.3 against 4.0), so the strategy takes 128 or more. Since
// im2col's product reads its transposed operand through kernel.Transpose
// (gemm's transpose), its dW at 14×14 is within this VM's spread of the
// strategy's (384→64: 1.3-1.8 against 1.4-2.9 ms, the whole backward
// 2.9-3.8 against 3.0-3.6); at 7×7 the strategy still wins (320→1280:
// 9.3-10.0 against 5.8-6.1, 960→160: 2.8-3.3 against 2.4). The
// forward pass and dX stay on the other strategies (the direct kernel
// runs a sample's pixels in its segments), so which convolutions run on
// the vector kernels, and with it the engine Auto picks
// (gradengine.Prefer), does not change.
func init() {
	registerConvStrategy(convStrategy{name: "pointwise", rank: 75,
		weightGrad: func(k convKey) convGradient {
			if !smallPointwise(k.g) || k.group != 1 || k.g.c < pointwiseMinC || k.g.h*k.g.w < 2 || !plainPointwise(k.g) {
				return nil
			}
			return pointwiseWeights{}
		},
	})
}

// pointwiseMinC is the fewest input channels the strategy takes.
const pointwiseMinC = 128

// plainPointwise reports whether the 1×1 window g maps each input pixel
// to the output pixel in its place: unit strides and no padding.
func plainPointwise(g geom2d) bool {
	return g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.oh == g.h && g.ow == g.w
}

type pointwiseWeights struct{}

func (p pointwiseWeights) begin(*State, convArgs, int, gemmFunc) convStep { return p }

func (pointwiseWeights) release(*State) {}

// batch writes dY·Xᵀ, over every pixel of the batch, to dst (dW). Its two
// layouts take as much scratch, for the call, as x and dY hold together;
// both already passed the executor's budget, and a plane of at most
// 14×14 keeps them small next to the layers before it.
func (pointwiseWeights) batch(s *State, a convArgs, dst, dy []float32) {
	n, m, c, p := a.n, a.m, a.g.c, a.g.h*a.g.w
	dyc, xt := s.scratch(m*n*p), s.scratch(c*n*p)
	defer s.Buffers.Put(dyc)
	defer s.Buffers.Put(xt)
	channelMajor(dyc, dy, n, m, p)
	pixelMajor(kernel.Transposes(a.kernels), xt, a.x.Data, n, c, p)
	s.gemm(false, false, m, c, n*p, 1, dyc, xt, 0, dst)
}

// pixelMajor writes planes (n samples of ch planes of p pixels) to dst
// as n·p rows of ch: pixel q of sample i to row i·p + q.
func pixelMajor(tr kernel.Transposer, dst, planes []float32, n, ch, p int) {
	forChunks(n, ch*p, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			tr.Matrix(dst[i*p*ch:], planes[i*ch*p:], ch, p, ch, p)
		}
	})
}

// channelMajor writes planes (n samples of ch planes of p pixels) to dst
// as ch rows of n·p: plane (i, o) to row o, columns i·p to (i+1)·p.
func channelMajor(dst, planes []float32, n, ch, p int) {
	forChunks(ch, n*p, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			row := dst[o*n*p:][:n*p]
			for i := range n {
				copy(row[i*p:][:p], planes[(i*ch+o)*p:][:p])
			}
		}
	})
}
