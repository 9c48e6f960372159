//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// Available reports whether this CPU runs the kernel: it needs AVX-512F,
// whose 32 vector registers hold a tile's 24 accumulators and whose lane
// masks cover ragged rows.
var Available = cpu.X86.HasAVX512F

//go:noescape
func tile8x3(t *Tile)

// Run computes one tile. It must only be called where Available is true.
func Run(t *Tile) { tile8x3(t) }
