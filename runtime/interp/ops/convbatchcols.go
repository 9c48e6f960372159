package ops

import "github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"

// The batch columns strategy, for the weight gradient of windows larger
// than 1×1, or strided, into small output planes (ResNet-50's last stage:
// its 3×3 layers at 7×7 and the strided layers into it). Sample by
// sample, dW +=
// dY·colsᵀ is a product over 49 or 196 pixels that adds the whole of dW,
// 512×4608 floats at 7×7, into itself once a sample; the direct kernel's
// segments follow rows, 16 lanes for 7 pixels. Here the samples' columns
// (im2col, each transposed to a row per pixel) and dY (a row per channel)
// are laid out for the batch, a chunk of samples at a time, so that dW is
// one product over the chunk's pixels. At batch 16 (2-core AMD EPYC,
// BenchmarkBatchColumns, two runs), against im2col's product a sample at
// a time: 3×3 512→512 at 7×7 31.3-31.5 against 37.4-38.8 ms (the direct
// kernel 75-81), 1×1 stride 2 1024→2048 to 7×7 19.2-23.7 against
// 31.7-38.9, 3×3 stride 2 512→512 to 7×7 35.3-37.2 against 34.0-39.1.
// At 14×14 it lost (3×3 256→256: 37.0 against 27.1 ms, 1×1 stride 2
// 512→1024: 20.8-24.1 against 18.7-19.1), so it takes planes of 7×7 and
// less. Measured on the vector kernels' path (the product's kernel too),
// it takes windows there alone. The forward pass and dX stay where they
// were.
func init() {
	registerConvStrategy(convStrategy{name: "batch columns", rank: 80, vector: true,
		weightGrad: func(k convKey) convGradient {
			g := k.g
			if !k.kernels || k.group != 1 || g.kh*g.kw < 2 && plainPointwise(g) || g.oh*g.ow > batchColsPlane || g.oh*g.ow == 0 ||
				g.colRows() < batchColsMinK {
				return nil
			}
			return batchCols{}
		},
	})
}

// batchColsPlane is the largest output plane the strategy takes.
const batchColsPlane = 7 * 7

// batchColsMinK is the fewest terms (input channels times taps) a window
// the strategy takes has: with fewer, dW is small and the layout's copies
// cost more than the product saves.
const batchColsMinK = 512

// batchColsFloats bounds the floats of one chunk's columns (16 MB): a
// chunk takes as many samples as fit, at least one.
const batchColsFloats = 4 << 20

// batchCols's floats bounds a chunk's columns; 0 is batchColsFloats.
type batchCols struct{ floats int }

func (p batchCols) begin(*State, convArgs, int, gemmFunc) convStep { return p }

func (batchCols) release(*State) {}

// batch writes dY·colsᵀ over every pixel of the batch to dst (dW).
func (bc batchCols) batch(s *State, a convArgs, dst, dy []float32) {
	g, n, m := a.g, a.n, a.m
	p, k, chw := g.oh*g.ow, g.colRows(), a.xs[1]*g.h*g.w
	floats := bc.floats
	if floats == 0 {
		floats = batchColsFloats
	}
	chunk := max(1, min(n, floats/(p*k)))
	colsT, dyc := s.scratch(chunk*p*k), s.scratch(m*chunk*p)
	defer s.Buffers.Put(colsT)
	defer s.Buffers.Put(dyc)
	workers, _ := s.sampleWorkers(chunk)
	cols := make([][]float32, workers)
	for wk := range cols {
		cols[wk] = s.scratch(k * p)
	}
	defer putAll(s.Buffers, cols)
	tr := kernel.Transposes(a.kernels)
	for lo := 0; lo < n; lo += chunk {
		c := min(chunk, n-lo)
		forSamples(c, workers, false, func(wk, j int) {
			im2col(cols[wk], a.x.Data[(lo+j)*chw:][:chw], g)
			tr.Matrix(colsT[j*p*k:], cols[wk], k, p, k, p)
		})
		channelMajor(dyc, dy[lo*m*p:][:c*m*p], c, m, p)
		beta := float32(1)
		if lo == 0 {
			beta = 0
		}
		s.gemm(false, false, m, k, c*p, 1, dyc[:m*c*p], colsT[:c*p*k], beta, dst)
	}
}
