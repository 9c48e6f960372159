package mem

import (
	"math"
	"sync"
)

// A Pool recycles float storage by length. A nil *Pool allocates and
// recycles nothing. A Pool is safe for concurrent use: the workers of one
// operator take and give back scratch at once.
type Pool struct {
	// Poison fills storage handed out unzeroed with NaN, so that tests
	// catch an operator that reads what it did not write.
	Poison bool

	mu   sync.Mutex
	free map[int][]freeBuf // by length
	run  int
}

type freeBuf struct {
	data []float32
	run  int // the run that gave it back
}

// KeepRuns is how many runs storage stays free before NextRun lets go of
// it. A training step of the paper recipe is three runs at two batch
// sizes (the attack's gradient and logits at B, the update at 2B), so a
// batch size's storage must outlive two runs of the other; with fewer,
// every step allocated its activations afresh (158 MB a step on the MNIST
// benchmark), and the page faults and the kernel's work returning pages
// took a quarter of the step.
const KeepRuns = 4

// NextRun marks the start of a run and lets go of storage that the last
// KeepRuns runs gave back and did not take again.
func (p *Pool) NextRun() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.run++
	for n, list := range p.free {
		kept := list[:0]
		for _, f := range list {
			if f.run >= p.run-KeepRuns {
				kept = append(kept, f)
			}
		}
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(p.free, n)
		} else {
			p.free[n] = kept
		}
	}
}

// Put gives back storage that nothing reads or writes any more.
func (p *Pool) Put(data []float32) {
	if p == nil || len(data) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free == nil {
		p.free = map[int][]freeBuf{}
	}
	p.free[len(data)] = append(p.free[len(data)], freeBuf{data, p.run})
}

// Get returns n floats, zeroed when zero is set and otherwise holding
// whatever they last held.
func (p *Pool) Get(n int, zero bool) []float32 {
	data := p.take(n)
	switch {
	case data == nil:
		data = make([]float32, n)
	case zero:
		clear(data)
	}
	if p != nil && p.Poison && !zero {
		nan := float32(math.NaN())
		for i := range data {
			data[i] = nan
		}
	}
	return data
}

// take removes and returns storage of length n, or nil where none is free.
func (p *Pool) take(n int) []float32 {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.free[n]
	if len(list) == 0 {
		return nil
	}
	data := list[len(list)-1].data
	list[len(list)-1] = freeBuf{}
	p.free[n] = list[:len(list)-1]
	return data
}
