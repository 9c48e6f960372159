package team

import (
	"runtime"
	"sync/atomic"
)

// ForSamples calls do(worker, i) for every sample i < n on that many
// workers. With inOrder, worker w takes the w-th of that many equal runs of
// samples, in order, so sums over samples (a weight's gradient) come out
// the same from one call to the next. Otherwise each worker takes the next
// sample as it finishes one, so that a core slowed by other work on the
// machine, as a shared machine's cores often are, holds up no other.
func ForSamples(n, workers int, inOrder bool, do func(worker, i int)) {
	if workers <= 1 {
		for i := range n {
			do(0, i)
		}
		return
	}
	if inOrder {
		Run(workers, func(wk int) {
			for i := wk * n / workers; i < (wk+1)*n/workers; i++ {
				do(wk, i)
			}
		})
		return
	}
	var next atomic.Int64
	Run(workers, func(wk int) {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			do(wk, i)
		}
	})
}

// ForChunks calls do on contiguous ranges covering [0, n), a few per core
// taken as the cores come free, when the work (n items of about cost
// elements each) pays for handing it to the helpers; otherwise it calls
// do(0, n) once.
func ForChunks(n, cost int, do func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || n*cost < 1<<15 {
		do(0, n)
		return
	}
	chunks := min(n, 4*workers)
	var next atomic.Int64
	Run(workers, func(int) {
		for c := int(next.Add(1)) - 1; c < chunks; c = int(next.Add(1)) - 1 {
			do(c*n/chunks, (c+1)*n/chunks)
		}
	})
}

// Run calls work(w) for each w < workers, work(0) on the calling goroutine
// and the others on the helpers (team.go), and returns when all have. A
// share no helper took runs on the caller after its own, so shares run at
// once only as far as helpers are free: a share must never wait for
// another.
func Run(workers int, work func(worker int)) {
	if workers <= 1 {
		work(0)
		return
	}
	hs := helpersFor(workers - 1)
	r := &region{fin: make(chan struct{})}
	r.left.Store(int32(workers - 1))
	handed := make([]*task, workers-1)
	for w := 1; w < workers; w++ {
		handed[w-1] = hs[w-1].hand(work, w, r)
	}
	work(0)
	// Shares no helper took (it was busy with another caller's, or has
	// not come to it yet) are done here, rather than waited for.
	for w := 1; w < workers; w++ {
		if t := handed[w-1]; t == nil || hs[w-1].takeBack(t) {
			work(w)
			r.done()
		}
	}
	r.wait()
}
