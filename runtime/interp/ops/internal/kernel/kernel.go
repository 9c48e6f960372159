// Package kernel holds the assembly inner loop of the interpreter's direct
// convolution (ops/directconv.go). It is a package of its own because Go
// assembly cannot live in a package that uses cgo, as ops does when built
// with -tags openblas.
package kernel

//go:generate go run gen.go

import "unsafe"

// Tile is the argument block of one call: an 8-channel by 3-segment tile
// of a unit-stride convolution. Accumulator (r, j), the 16 output pixels
// of segment j in channel r, starts at Bias[r], adds
// A[k·8+r] · X[Offs[k] + XSeg[j] + lane] for every term k, passes through
// Relu if asked, and is stored under Mask[j] at Out + r·OStride + OSeg[j],
// for the first Rows channels. Offsets are in bytes. The assembly reads
// the fields at fixed offsets: their order and sizes must not change.
type Tile struct {
	A       unsafe.Pointer // 0: K rows of 8 weights
	X       unsafe.Pointer // 8: padded image
	Offs    unsafe.Pointer // 16: K int64 byte offsets into X, one per term
	K       int64          // 24
	XSeg    [3]int64       // 32: byte offset of each segment's first pixel in X
	OSeg    [3]int64       // 56: byte offset of each segment in an output channel
	Mask    [3]uint64      // 80: lanes each segment covers (16 bits)
	Out     unsafe.Pointer // 104: first output channel of the tile
	OStride int64          // 112: bytes between output channels
	Bias    unsafe.Pointer // 120: 8 biases
	Relu    int64          // 128: nonzero for Relu
	Rows    int64          // 136: channels to store, 1 to 8
}

// Tile geometry.
const (
	Rows  = 8  // output channels per tile
	Segs  = 3  // segments per tile
	Lanes = 16 // output pixels per segment
)
