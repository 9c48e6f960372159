//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// Available reports whether this CPU runs the kernel: it needs AVX-512F,
// whose 32 vector registers hold a tile's 24 accumulators and whose lane
// masks cover ragged rows.
var Available = cpu.X86.HasAVX512F

//go:noescape
func tile8x3(t *Tile)

//go:noescape
func tile4x6(t *Tile)

// Run computes one tile of shape s (Tall or Wide). It must only be called
// where Available is true.
func Run(s Shape, t *Tile) {
	if s == Tall {
		tile8x3(t)
	} else {
		tile4x6(t)
	}
}

//go:noescape
func max2x2(dst, r0, r1 *float32, n int)

//go:noescape
func maxArg2x2(dst *float32, arg *int32, r0, r1 *float32, n int, first, w int32)

// Max2x2 writes dst[i] = max(r0[2i], r0[2i+1], r1[2i], r1[2i+1]) for
// i < len(dst): one output row of a 2×2, stride-2 max pool. r0 and r1 must
// hold 2·len(dst) values.
func Max2x2(dst, r0, r1 []float32) {
	if len(dst) > 0 {
		_, _ = r0[2*len(dst)-1], r1[2*len(dst)-1]
		max2x2(&dst[0], &r0[0], &r1[0], len(dst))
	}
}

// MaxArg2x2 is Max2x2 that also writes the winner of each window to arg,
// as an offset in the plane: output i's window starts at first+2i and its
// second row w further on. The first maximum in row-major order wins ties.
func MaxArg2x2(dst []float32, arg []int32, r0, r1 []float32, first, w int32) {
	if len(dst) > 0 {
		_, _, _ = arg[len(dst)-1], r0[2*len(dst)-1], r1[2*len(dst)-1]
		maxArg2x2(&dst[0], &arg[0], &r0[0], &r1[0], len(dst), first, w)
	}
}

//go:noescape
func reluMask(dst, dy, y *float32, n int)

// ReluMask writes dst[i] = dy[i] where y[i] > 0 and 0 elsewhere: the
// gradient through a Relu whose output was y. The slices must be as long
// as dst.
func ReluMask(dst, dy, y []float32) {
	if len(dst) > 0 {
		_, _ = dy[len(dst)-1], y[len(dst)-1]
		reluMask(&dst[0], &dy[0], &y[0], len(dst))
	}
}
