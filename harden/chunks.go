package harden

import (
	"runtime"
	"sync"
)

// minChunk is the fewest values a goroutine of forChunks takes: below it
// a weight is updated on the calling goroutine (a bias, a norm's scale).
const minChunk = 1 << 16

// forChunks calls f over [0, n) in contiguous chunks, on up to GOMAXPROCS
// goroutines at once, and returns when all are done. The optimizers and
// the step's per-weight passes are element by element, so the result is
// the same bits however the range is cut; on ViT-B/16's 86M weights AdamW
// alone took 1.2 s a step on one core while ONNX Runtime's threads idled.
func forChunks(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/minChunk)
	if workers <= 1 {
		f(0, n)
		return
	}
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := per; lo < n; lo += per {
		wg.Go(func() { f(lo, min(lo+per, n)) })
	}
	f(0, min(per, n))
	wg.Wait()
}
