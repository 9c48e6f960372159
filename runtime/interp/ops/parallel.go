package ops

import "github.com/onnxguard/onnxguard/runtime/interp/internal/team"

// The thread team's loops (package team), under the names the operators
// call them by.

func run(workers int, work func(worker int)) { team.Run(workers, work) }

func forSamples(n, workers int, inOrder bool, do func(worker, i int)) {
	team.ForSamples(n, workers, inOrder, do)
}

func forChunks(n, cost int, do func(lo, hi int)) { team.ForChunks(n, cost, do) }
