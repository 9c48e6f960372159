package ops

import (
	"runtime"

	"github.com/onnxguard/onnxguard/runtime/interp/internal/team"
)

// sampleWorkers returns how many goroutines should share a batch of n
// samples, and the matrix multiply each should call: one goroutine per
// core, each multiplying on its own, unless the BLAS already spreads every
// multiply over the cores, where a second level of threads would contend.
func sampleWorkers(n int) (int, func(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if blasThreads > 1 || workers <= 1 {
		return 1, gemm
	}
	return workers, gemmSerial
}

// The thread team's loops (package team), under the names the operators
// call them by.

func run(workers int, work func(worker int)) { team.Run(workers, work) }

func forSamples(n, workers int, inOrder bool, do func(worker, i int)) {
	team.ForSamples(n, workers, inOrder, do)
}

func forChunks(n, cost int, do func(lo, hi int)) { team.ForChunks(n, cost, do) }
