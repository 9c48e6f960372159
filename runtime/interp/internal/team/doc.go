// Package team provides the interpreter's thread team: helper goroutines
// that run the shares of a parallel region beside the calling goroutine
// and stay awake between regions, and the loops built on them that the
// operators and the matrix multiply use to spread work over the cores.
//
// Run hands one region's shares to the helpers (team.go), ForSamples
// gives each worker its run of a batch's samples (in order, where a sum
// over samples must come out the same every time), and ForChunks cuts a
// range into a few chunks per core where the work pays for it.
package team
