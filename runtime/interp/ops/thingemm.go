package ops

import (
	"unsafe"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// thinK is the largest inner dimension thinGemm takes. A product whose
// inner dimension is a classifier's few classes (the input gradient of a
// network's last Gemm: dY, batch × 10, times W, 10 × 800) is all loads
// and stores for a BLAS, which blocks for large k: gonum's ran MNIST's at
// 13 GFLOP/s. On the direct convolution's kernel, where each term's row of
// b is one shifted vector read, it runs as a 1×1 convolution.
const thinK = 64

// thinTakes reports whether thinGemm computes c = alpha·op(a)·op(b) +
// beta·c: where the kernels run, b is not transposed, beta is 0 (the
// kernel overwrites c), k ≤ thinK, m ≥ 8 (a tile's rows) and n ≥ 1.
func thinTakes(transB bool, m, n, k int, beta float32) bool {
	return useKernels && !transB && beta == 0 && k >= 1 && k <= thinK && m >= kernel.Tall.Rows && n >= 1
}

// thinGemm computes c = alpha·op(a)·b for row-major op(a) (m×k) and b
// (k×n) where thinTakes says so, its tiles spread over the cores if
// parallel. Rows of c are the kernel's output channels (8 at a time,
// their weights op(a)'s rows, packed with alpha applied), its 16-lane
// segments run along the rows of b and c, and term t reads row t of b.
func thinGemm(parallel, transA bool, m, n, k int, alpha float32, a, b, c []float32) {
	tiles, packLen, _ := directTiles(m, k, false, kernel.Tall)
	packed := make([]float32, packLen)
	for _, t := range tiles {
		rows := t.shape.Rows
		dst := packed[t.pack:][:k*rows]
		for r := range t.n {
			i := t.first + r
			for kk := range k {
				v := a[i*k+kk]
				if transA {
					v = a[kk*m+i]
				}
				dst[kk*rows+r] = alpha * v
			}
		}
	}
	offs := make([]int64, k)
	for kk := range offs {
		offs[kk] = int64(4 * kk * n)
	}
	var zeros [8]float32 // a bias for each row of the tallest tile
	segs := (n + kernel.Lanes - 1) / kernel.Lanes
	cost := k * n * kernel.Tall.Rows
	if !parallel {
		cost = 0 // forChunks then calls once
	}
	forChunks(len(tiles), cost, func(lo, hi int) {
		var t kernel.Tile
		t.X = unsafe.Pointer(&b[0])
		t.Offs = unsafe.Pointer(&offs[0])
		t.K = int64(k)
		t.OStride = int64(4 * n)
		t.Bias = unsafe.Pointer(&zeros[0])
		for _, tl := range tiles[lo:hi] {
			t.A = unsafe.Pointer(&packed[tl.pack])
			t.Out = unsafe.Pointer(&c[tl.first*n])
			t.Rows = int64(tl.n)
			per := tl.shape.Segs
			for s := 0; s < segs; s += per {
				for j := range per {
					t.XSeg[j], t.OSeg[j], t.Mask[j] = 0, 0, 0
					if q := (s + j) * kernel.Lanes; q < n {
						t.XSeg[j], t.OSeg[j] = int64(4*q), int64(4*q)
						t.Mask[j] = 1<<min(kernel.Lanes, n-q) - 1
					}
				}
				kernel.Run(tl.shape, &t)
			}
		}
	})
}
