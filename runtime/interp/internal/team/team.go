package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The helpers that run a parallel region's shares (Run) beside the calling
// goroutine. A goroutine started per region waited for a core to wake:
// where an idle virtual core halts, as the 2-core machines of this
// project's benchmarks do, the second worker of a region started 127 µs
// after the first on average (measured over an MNIST forward pass, whose
// two convolutions take 0.6 ms each on a batch of 128), and a fifth of
// the region ran on one core. A helper instead stays awake for spinFor
// after its share, looking for the next one and yielding its core at
// every look to any other thread that wants it, ONNX Runtime's during a
// verification run for one; then it parks, costing nothing, until a
// region hands it work again.
//
// spinFor covers the serial work between two regions of one step (a
// softmax, an optimizer update, an attack's sign step: tens of
// microseconds) and between the steps of an attack, with room to spare.
const spinFor = time.Millisecond

// A task is one share of a region, handed to one helper.
type task struct {
	work func(worker int)
	id   int
	r    *region
}

// A region counts the shares not yet done; the last to finish closes fin.
type region struct {
	left atomic.Int32
	fin  chan struct{}
}

func (r *region) done() {
	if r.left.Add(-1) == 0 {
		close(r.fin)
	}
}

// wait returns when every share is done: at once where the helpers
// finished first, after looking for spinFor (the shares are of one size),
// then blocked.
func (r *region) wait() {
	deadline := time.Now().Add(spinFor)
	for i := 0; r.left.Load() > 0; i++ {
		if i%64 == 63 && time.Now().After(deadline) {
			<-r.fin
			return
		}
		yield()
	}
}

// A helper is one goroutine and the task handed to it. busy is set from
// the moment a caller claims the helper until it has finished that task,
// so a helper holds one task at a time; slot holds the task until the
// helper (or the caller taking it back) removes it.
type helper struct {
	busy   atomic.Bool
	slot   atomic.Pointer[task]
	parked atomic.Bool
	wake   chan struct{}
}

var team struct {
	mu      sync.Mutex
	helpers atomic.Pointer[[]*helper]
}

// helpersFor returns at least n helpers, starting those missing.
func helpersFor(n int) []*helper {
	if hs := team.helpers.Load(); hs != nil && len(*hs) >= n {
		return *hs
	}
	team.mu.Lock()
	defer team.mu.Unlock()
	var hs []*helper
	if p := team.helpers.Load(); p != nil {
		hs = *p
	}
	for len(hs) < n {
		h := &helper{wake: make(chan struct{}, 1)}
		go h.loop()
		hs = append(hs[:len(hs):len(hs)], h)
	}
	team.helpers.Store(&hs)
	return hs
}

// hand gives h share id of work in region r and returns the task, or nil
// where h is busy with another caller's.
func (h *helper) hand(work func(int), id int, r *region) *task {
	if !h.busy.CompareAndSwap(false, true) {
		return nil
	}
	t := &task{work: work, id: id, r: r}
	h.slot.Store(t)
	// A helper parks only after it has said so and then found its slot
	// empty, so either it sees t or this sees it parked.
	if h.parked.Load() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	return t
}

// takeBack removes t from h's slot if h has not taken it yet, so the
// caller can run it; it reports whether it did.
func (h *helper) takeBack(t *task) bool {
	if h.slot.CompareAndSwap(t, nil) {
		h.busy.Store(false)
		return true
	}
	return false
}

func (h *helper) loop() {
	for {
		t := h.next()
		t.work(t.id)
		h.busy.Store(false)
		t.r.done()
	}
}

// next returns the next task handed to h, looking for it for spinFor and
// then parked.
func (h *helper) next() *task {
	for {
		deadline := time.Now().Add(spinFor)
		for i := 0; ; i++ {
			if h.slot.Load() != nil {
				if t := h.slot.Swap(nil); t != nil {
					return t
				}
			}
			if i%64 == 63 && time.Now().After(deadline) {
				break
			}
			yield()
		}
		h.parked.Store(true)
		if h.slot.Load() == nil {
			<-h.wake
		}
		h.parked.Store(false)
	}
}

// yield lets another goroutine of this process, or another thread of the
// machine (yieldThread), have the core a helper is looking for work on.
func yield() {
	runtime.Gosched()
	yieldThread()
}
