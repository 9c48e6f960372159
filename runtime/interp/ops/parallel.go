package ops

import (
	"runtime"
	"sync"
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

// forSamples calls do(worker, i) for every sample i < n, worker w taking
// the w-th of that many equal runs of samples, in order. Fixed runs keep
// sums over samples (a weight's gradient) the same from one call to the next.
func forSamples(n, workers int, do func(worker, i int)) {
	if workers <= 1 {
		for i := range n {
			do(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	for wk := range workers {
		wg.Go(func() {
			for i := wk * n / workers; i < (wk+1)*n/workers; i++ {
				do(wk, i)
			}
		})
	}
	wg.Wait()
}

// forChunks calls do on contiguous ranges covering [0, n), one per core,
// when the work (n items of about cost elements each) pays for the
// goroutines; otherwise it calls do(0, n) once.
func forChunks(n, cost int, do func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || n*cost < 1<<15 {
		do(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { do(w*n/workers, (w+1)*n/workers) })
	}
	wg.Wait()
}
