// Package kernel holds the interpreter's AVX-512F assembly: the direct
// convolution's tiles and its weight gradient (conv_amd64.s, written by
// gen.go), the 2×2 max pool, its gradient, the Relu mask, sums and row
// copies (pool_amd64.s, mask_amd64.s), the sparse gradient's lists,
// scatters and grid transposes (sparse_amd64.s), the activations (SiLU,
// HardSwish, Clip) and a dot product (acts_amd64.s), and their pure-Go twins
// (twin.go, acts.go), which give the same results and run where the CPU has no
// AVX-512F or the build has the purego tag. Available says whether this
// CPU runs the assembly; the exported functions (kernels.go) check their
// arguments (api.go) and run on the assembly where it does, on the twins
// elsewhere. One test suite (TestKernels) takes the implementation as a
// parameter and runs over both where both exist. The package stands apart
// because Go assembly cannot live in a package that uses cgo, as the
// matrix multiply (gemm) does when built with -tags openblas.
package kernel

//go:generate go run gen.go

import "unsafe"

// Tile is the argument block of one call: a tile of rows output channels
// (8, 6, 4 or 1) by segments of 16 output pixels (1 to 3, 4, 6 or 12) of
// a unit-stride convolution. Accumulator (r, j), the 16 pixels of segment
// j in channel r, starts at Bias[r], adds A[k·rows+r] · X[Offs[k] +
// XSeg[j] + lane] over the terms k, passes through Relu if asked, and is
// stored under Mask[j] at Out + r·OStride + OSeg[j], for the first Rows
// channels. Run1 is the exception: its 12 segments follow one another
// from XSeg[0] and OSeg[0], every lane read and stored (Mask and Rows
// unused). Offsets are in bytes. The assembly reads the fields at fixed
// offsets (gen.go): their order and sizes must not change.
type Tile struct {
	A       unsafe.Pointer  // 0: K rows of weights, one per channel of the tile
	X       unsafe.Pointer  // 8: padded image
	Offs    unsafe.Pointer  // 16: K int64 byte offsets into X, one per term
	K       int64           // 24
	XSeg    [MaxSegs]int64  // 32: byte offset of each segment's first pixel in X
	OSeg    [MaxSegs]int64  // 80: byte offset of each segment in an output channel
	Mask    [MaxSegs]uint64 // 128: lanes each segment covers (16 bits)
	Out     unsafe.Pointer  // 176: first output channel of the tile
	OStride int64           // 184: bytes between output channels
	Bias    unsafe.Pointer  // 192: a bias per channel of the tile
	Relu    int64           // 200: nonzero for Relu
	Rows    int64           // 208: channels to store, 1 to the tile's rows
}

// GradTile is the argument block of the weight-gradient kernel, for 8
// output channels of a unit-stride convolution: for each triple t of
// terms, Out[t·24 + r·3 + j] = Σ over segments s and their lanes of
// DY[r·DYStride + Segs[s].DY + lane] · X[Offs[3t+j] + Segs[s].X + lane],
// the lanes outside Segs[s].Mask left out. Offsets are in bytes; the
// assembly reads the fields at fixed offsets (gen.go).
type GradTile struct {
	DY       unsafe.Pointer // 0: dY of the tile's first channel
	DYStride int64          // 8: bytes between channels of dY; 8 rows must lie within it
	X        unsafe.Pointer // 16: padded image
	Offs     unsafe.Pointer // 24: 3·Triples int64 term offsets into X
	Triples  int64          // 32
	Segs     unsafe.Pointer // 40: NSegs GradSegs
	NSegs    int64          // 48
	Out      unsafe.Pointer // 56: 24·Triples float32 sums, or see Add
	// Add, when nonzero, makes the kernel add each sum into the gradient
	// where it belongs instead: Out[r·OutRow/4 + 3t + j], OutRow bytes
	// between the tile's channels. The tile must then have all 8
	// channels and the terms come in whole triples.
	Add    int64 // 64
	OutRow int64 // 72
}

// GradSeg is a segment of the weight-gradient kernel: 16 output pixels,
// at byte offsets X in the padded image and DY in a channel of dY, of
// which Mask says which exist.
type GradSeg struct{ X, DY, Mask int64 }

// A Shape is one of the kernels' tile shapes.
type Shape struct{ Rows, Segs int }

// The kernels: 8 channels by 3 segments; 6 by 4, which tiles rows of 16
// pixels (a 16×16 layer's 16 segments) without a partial group; and 4 by
// 6 for layers with few channels (a network's first layer seen from its
// gradient), each with 24 accumulators; and Run1, one channel by 12
// segments that lie one after another in the image and the output and
// need no masks: every lane is read and stored, so the caller leaves room
// past the ends.
//
// Tall2 and Tall1, 8 channels by 2 segments or 1, take the last group of
// a Tall tile's segments where it has only that many (MNIST's second
// layer, pooled, needs 8 segments: two groups of 3 and one of 2), so no
// lane of the third is computed for nothing.
var (
	Tall  = Shape{8, 3}
	Tall2 = Shape{8, 2}
	Tall1 = Shape{8, 1}
	Broad = Shape{6, 4}
	Wide  = Shape{4, 6}
	Run1  = Shape{1, 12}
)

// Tile geometry.
const (
	MaxSegs = 6  // segments a Tile holds masks and offsets for (Run1 takes one offset pair)
	Lanes   = 16 // output pixels per segment
)
