package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun checks that Run calls every share exactly once, with its own
// worker number, however the helpers are placed: idle, busy with another
// caller's region, parked after spinFor, or handed work from inside a
// share (a region within a region).
func TestRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	check := func(t *testing.T, workers int, inner func(worker int)) {
		t.Helper()
		counts := make([]atomic.Int32, workers)
		Run(workers, func(w int) {
			counts[w].Add(1)
			if inner != nil {
				inner(w)
			}
		})
		for w := range counts {
			if c := counts[w].Load(); c != 1 {
				t.Errorf("worker %d of %d ran %d times, want once", w, workers, c)
			}
		}
	}
	cases := []struct {
		name    string
		workers int
		before  func()
		inner   func(t *testing.T) func(int)
	}{
		{name: "one worker", workers: 1},
		{name: "two", workers: 2},
		{name: "more than the helpers so far", workers: 6},
		{name: "after the helpers parked", workers: 3, before: func() { time.Sleep(3 * spinFor) }},
		{name: "nested", workers: 3, inner: func(t *testing.T) func(int) {
			return func(int) { check(t, 3, nil) }
		}},
		{name: "slow shares", workers: 4, inner: func(t *testing.T) func(int) {
			return func(w int) { time.Sleep(time.Duration(w) * 200 * time.Microsecond) }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before()
			}
			var inner func(int)
			if c.inner != nil {
				inner = c.inner(t)
			}
			for range 50 {
				check(t, c.workers, inner)
			}
		})
	}
}

// TestRunConcurrentCallers has several goroutines run regions at once, as
// two programs in one process may: each region's shares must all run,
// once, before its Run returns.
func TestRunConcurrentCallers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				var sum atomic.Int64
				Run(3, func(w int) { sum.Add(int64(1) << (8 * w)) })
				if got := sum.Load(); got != 1+1<<8+1<<16 {
					t.Errorf("shares ran as %#x, want each once (0x10101)", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestForSamplesInOrder checks that the in-order split gives worker w the
// w-th of equal runs of samples, in order, however the helpers come to
// them (a share taken back runs on the caller under its own worker
// number), which is what makes a weight gradient's sum the same from one
// run to the next.
func TestForSamplesInOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	const n, workers = 37, 3
	for rep := range 50 {
		var mu sync.Mutex
		seen := make([][]int, workers)
		ForSamples(n, workers, true, func(wk, i int) {
			mu.Lock()
			seen[wk] = append(seen[wk], i)
			mu.Unlock()
		})
		for wk, got := range seen {
			lo, hi := wk*n/workers, (wk+1)*n/workers
			if len(got) != hi-lo {
				t.Fatalf("run %d: worker %d took samples %v, want %d to %d", rep, wk, got, lo, hi-1)
			}
			for j, i := range got {
				if i != lo+j {
					t.Fatalf("run %d: worker %d took samples %v, want %d to %d in order", rep, wk, got, lo, hi-1)
				}
			}
		}
	}
}
