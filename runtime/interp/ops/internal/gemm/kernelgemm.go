package gemm

import (
	"unsafe"

	"github.com/onnxguard/onnxguard/runtime/interp/internal/team"
	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// Matrix products on the direct convolution's kernel (internal/kernel),
// as 1×1 convolutions: the rows of c are the kernel's output channels, 8
// at a time, their weights the rows of op(a) (packed, alpha applied); its
// 16-lane segments run along the rows of b and c, and term t reads row t
// of b as one shifted vector. It takes two kinds of product:
//
//   - thin ones, inner dimension k ≤ thinK, whatever the BLAS: a
//     classifier's input gradient (dY, batch × 10 classes, times W,
//     10 × 800) is all loads and stores for a BLAS, which blocks for
//     large k; gonum's ran MNIST's at 13 GFLOP/s on one core;
//   - all with rows of c 32 or wider where the BLAS is gonum, whose
//     multiply reaches some 24 GFLOP/s on a core of the benchmark machine
//     against the kernel's 90 and more (the CIFAR model's
//     128×4096·4096×128 layer took 6 ms of a 38 ms forward pass). A
//     transposed b is transposed into scratch first.
//
// kernelGemm spreads a product's tiles over the cores where its caller
// asks (Gemm does for products of parallelGemmFlops or more). Its scratch
// (packed rows of op(a), a transposed b, partial products) comes from the
// Mul's pool, so a step takes the same storage from one run to the next.
const thinK = 64

// kernelTakes reports whether kernelGemm computes c = alpha·op(a)·op(b)
// + beta·c: where the kernels run (Kernels), m ≥ 8 (a tile's rows), n, k ≥ 1, and
// the product is thin with b not transposed, or the BLAS is gonum and c
// has rows of 32 or more (narrower ones leave most of a tile's lanes
// empty: MNIST's last layer, 10 wide, ran faster on gonum).
func (g Mul) kernelTakes(transB bool, m, n, k int) bool {
	if !g.Kernels || m < kernel.Tall.Rows || n < 1 || k < 1 {
		return false
	}
	return k <= thinK && !transB || Name == "gonum" && n >= 2*kernel.Lanes
}

// kBlock is the most terms the kernel sums in one run: a longer inner
// dimension is summed in blocks whose results are then added, which
// keeps the rounding of a 3136-term layer (the Fashion-MNIST CNN's first
// dense one) within that of the BLAS: 1.4e-4 of its logits against
// PyTorch's in one run, 3.2e-5 in blocks (OpenBLAS: 7.2e-5).
const kBlock = 256

// add sums a block's products into c on the vector kernel: the Go loop
// here took 10% of MobileNet-V3-Large's training pass, adding into whole
// weight gradients products of as few terms as the batch's 16.
var add = kernel.Acts(true).Add

// kernelGemm computes c = alpha·op(a)·op(b) + beta·c for row-major op(a)
// (m×k) and op(b) (k×n) where kernelGemmTakes says so, spread over the
// cores if parallel.
func (g Mul) kernelGemm(parallel, transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32) {
	cost := func(perItem int) int {
		if !parallel {
			return 0 // ForChunks then calls once
		}
		return perItem
	}
	if transB { // b is n×k: make it k×n
		bt := g.Pool.Get(k*n, false)
		defer g.Pool.Put(bt)
		transpose(bt, b, n, k, cost(k))
		b = bt
	}
	tiles, packLen, _ := kernel.Cover(m, k, false, kernel.Tall)
	packed := g.Pool.Get(packLen, false)
	defer g.Pool.Put(packed)
	offs := make([]int64, k)
	for kk := range offs {
		offs[kk] = int64(4 * kk * n)
	}
	var zeros [8]float32 // a bias for each row of the tallest tile
	// Segments run along the rows of b and c.
	segs := make([]kernel.GradSeg, 0, (n+kernel.Lanes-1)/kernel.Lanes)
	for q := 0; q < n; q += kernel.Lanes {
		segs = append(segs, kernel.GradSeg{X: int64(4 * q), DY: int64(4 * q), Mask: 1<<min(kernel.Lanes, n-q) - 1})
	}
	// The kernel overwrites what it stores: a block of terms after the
	// first, or the first where beta keeps c, goes to part, which is then
	// added into the tile's rows of c.
	team.ForChunks(len(tiles), cost(k*n*kernel.Tall.Rows), func(lo, hi int) {
		var part []float32 // such a block's sums, for the tallest tile
		if k > kBlock || beta != 0 {
			part = g.Pool.Get(kernel.Tall.Rows*n, false)
			defer g.Pool.Put(part)
		}
		var t kernel.Tile
		t.X = unsafe.Pointer(&b[0])
		t.Bias = unsafe.Pointer(&zeros[0])
		t.OStride = int64(4 * n)
		for _, tl := range tiles[lo:hi] {
			// Each tile packs its own rows of op(a), on its own core.
			rows := tl.Shape.Rows
			dst := packed[tl.Pack:][:k*rows]
			packRows(dst, a, tl, transA, m, k, alpha)
			t.Rows = int64(tl.N)
			cRows := c[tl.First*n:][:tl.N*n]
			for k0 := 0; k0 < k; k0 += kBlock {
				out := cRows
				if k0 > 0 || beta != 0 {
					out = part
				}
				t.A = unsafe.Pointer(&dst[k0*rows])
				t.Offs = unsafe.Pointer(&offs[k0])
				t.K = int64(min(kBlock, k-k0))
				t.Out = unsafe.Pointer(&out[0])
				kernel.RunSegments(tl.Shape, &t, segs)
				switch {
				case k0 == 0 && beta != 0 && beta != 1:
					for i, v := range out[:tl.N*n] {
						cRows[i] = beta*cRows[i] + v
					}
				case k0 > 0 || beta == 1: // beta·c is c itself
					add(cRows, cRows, out[:tl.N*n])
				}
			}
		}
	})
}

// packRows writes to dst the rows of alpha·op(a) (m×k) that tile tl
// computes, interleaved as the kernel reads its weights (k rows of the
// tile's channels), and zeros for the tile's rows past them.
func packRows(dst, a []float32, tl kernel.Span, transA bool, m, k int, alpha float32) {
	rows := tl.Shape.Rows
	for r := tl.N; r < rows; r++ {
		for kk := range k {
			dst[kk*rows+r] = 0
		}
	}
	if transA { // row i of op(a) is column i of a
		for kk := range k {
			row := dst[kk*rows:][:tl.N]
			for r, v := range a[kk*m+tl.First:][:tl.N] {
				row[r] = alpha * v
			}
		}
		return
	}
	for r := range tl.N {
		for kk, v := range a[(tl.First+r)*k:][:k] {
			dst[kk*rows+r] = alpha * v
		}
	}
}

// transpose writes to dst (cols × rows) the transpose of src (rows ×
// cols), 16×16 blocks at a time in registers (kernel.Transpose), spread
// over the cores by bands of src's rows where cost (per row) says it
// pays.
func transpose(dst, src []float32, rows, cols, cost int) {
	const block = 32
	bands := (rows + block - 1) / block
	team.ForChunks(bands, cost*block, func(lo, hi int) {
		i0, i1 := lo*block, min(hi*block, rows)
		kernel.Transposes(true).Matrix(dst[i0:], src[i0*cols:], i1-i0, cols, rows, cols)
	})
}
