package mem

import (
	"math"
	"slices"
	"sync"
)

// A Pool recycles float storage by length. A nil *Pool allocates and
// recycles nothing. A Pool is safe for concurrent use: the workers of one
// operator take and give back scratch at once.
type Pool struct {
	// Poison fills storage handed out unzeroed, and storage given back,
	// with NaN, so that tests catch an operator that reads what it did
	// not write and an executor that gives back what is still read.
	Poison bool

	mu   sync.Mutex
	free map[int][]freeBuf // by length
	run  int
	// use tracks, per length, how many buffers are out (taken and not
	// given back) and the most that were at once in each of the last
	// KeepRuns runs: Put keeps no more free buffers of a length than that
	// peak, so that storage allocated outside the pool and given back
	// when it dies does not pile up from run to run.
	use map[int]*lengthUse
	// out holds the buffers handed out and not given back, by address,
	// with the run that took them. A buffer held across runs (the paper
	// step's clean result, read once the adversarial pass is done) counts
	// as out in every run that it spans, so that both passes' storage
	// comes back; counting afresh each run, the pool kept one of the two
	// and the other pass allocated its weight gradients anew every step
	// (22 MB a step on MobileNet-V2, whose page faults took a tenth of
	// the step). A buffer out for more than KeepRuns runs is taken for
	// the caller's (an inference's logits) and no longer counted.
	out map[*float32]outBuf
}

type outBuf struct {
	n, run int // length, and the run that took it
}

type freeBuf struct {
	data []float32
	run  int // the run that gave it back
}

// lengthUse is a Pool's count of the buffers of one length.
type lengthUse struct {
	out  int32
	peak [KeepRuns]int32 // by run, a ring
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
	for addr, o := range p.out {
		if o.run < p.run-KeepRuns {
			p.forget(addr, o)
		}
	}
	for n, u := range p.use {
		u.peak[p.run%KeepRuns] = u.out
		if u.peak == [KeepRuns]int32{} {
			delete(p.use, n)
		}
	}
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
	if p.Poison {
		nan := float32(math.NaN())
		for i := range data {
			data[i] = nan
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if o, ok := p.out[&data[0]]; ok && o.n == len(data) {
		p.forget(&data[0], o)
	}
	u := p.use[len(data)]
	if u == nil {
		return // the garbage collector's: no recent run took this length
	}
	if len(p.free[len(data)]) >= int(slices.Max(u.peak[:])) {
		return // nor this many at once
	}
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
		p.handOut(data)
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

// take counts a buffer of length n out and hands out free storage of
// that length, or returns nil where none is free.
func (p *Pool) take(n int) []float32 {
	if p == nil || n <= 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.use == nil {
		p.use = map[int]*lengthUse{}
	}
	u := p.use[n]
	if u == nil {
		u = &lengthUse{}
		p.use[n] = u
	}
	u.out++
	u.peak[p.run%KeepRuns] = max(u.peak[p.run%KeepRuns], u.out)
	list := p.free[n]
	if len(list) == 0 {
		return nil
	}
	data := list[len(list)-1].data
	list[len(list)-1] = freeBuf{}
	p.free[n] = list[:len(list)-1]
	p.handOutLocked(data)
	return data
}

// handOut records new storage that take counted out.
func (p *Pool) handOut(data []float32) {
	if p == nil || len(data) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handOutLocked(data)
}

func (p *Pool) handOutLocked(data []float32) {
	if p.out == nil {
		p.out = map[*float32]outBuf{}
	}
	// Storage recorded as out is handed out again only where a caller
	// gave it back twice, or gave back part of it: the old record goes,
	// and its count with it, or that length would count one out for good.
	if old, ok := p.out[&data[0]]; ok {
		p.forget(&data[0], old)
	}
	p.out[&data[0]] = outBuf{len(data), p.run}
}

// forget drops the record of o, out at addr, and counts it back in.
func (p *Pool) forget(addr *float32, o outBuf) {
	delete(p.out, addr)
	if u := p.use[o.n]; u != nil {
		u.out = max(u.out-1, 0)
	}
}
