package ops

import (
	"math"
	"slices"
)

// Buffers recycles float storage from one run of a program to the next.
// A CNN allocates the same large activations and gradients on every call;
// fresh ones cost the kernel's page faults and the zeroing of every page,
// and the garbage collector's work to free them, on the order of a tenth
// of a convolutional network's step. The executor hands back (Put) the
// storage of values that died, when no live value shares it; the ops take
// it (State.alloc) for their outputs and scratch. A nil *Buffers allocates
// and recycles nothing. Buffers is not safe for concurrent use.
type Buffers struct {
	free map[int][]freeBuf // by length
	run  int
	// Poison fills storage handed out unzeroed, and storage given back,
	// with NaN, so that tests catch an op that reads what it did not
	// write and an executor that gives back what is still read.
	Poison bool
	// use tracks, per length, how many buffers are out (taken and not
	// given back) and the most that were at once in each of the last
	// keepRuns runs: Put keeps no more free buffers of a length than
	// that peak, so that storage ops allocate outside the pool and give
	// back when it dies does not pile up from run to run.
	use map[int]*lengthUse
}

type freeBuf struct {
	data []float32
	run  int // the run that gave it back
}

// keepRuns is how many runs storage stays free before NextRun lets go of
// it. A training step of the paper recipe is three runs at two batch
// sizes (the attack's gradient and logits at B, the update at 2B), so a
// batch size's storage must outlive two runs of the other; with fewer,
// every step allocated its activations afresh (158 MB a step on the MNIST
// benchmark), and the page faults and the kernel's work returning pages
// took a quarter of the step.
const keepRuns = 4

// NextRun marks the start of a run and lets go of storage that the last
// keepRuns runs gave back and did not take again, so a batch size seen
// once does not keep its storage for good.
func (b *Buffers) NextRun() {
	if b == nil {
		return
	}
	b.run++
	for n, u := range b.use {
		u.out, u.peak[b.run%keepRuns] = 0, 0
		if u.peak == [keepRuns]int32{} {
			delete(b.use, n)
		}
	}
	for n, list := range b.free {
		kept := list[:0]
		for _, f := range list {
			if f.run >= b.run-keepRuns {
				kept = append(kept, f)
			}
		}
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(b.free, n)
		} else {
			b.free[n] = kept
		}
	}
}

// Put gives back storage that nothing reads or writes any more.
func (b *Buffers) Put(data []float32) {
	if b == nil || len(data) == 0 {
		return
	}
	if b.free == nil {
		b.free = map[int][]freeBuf{}
	}
	if b.Poison {
		nan := float32(math.NaN())
		for i := range data {
			data[i] = nan
		}
	}
	u := b.use[len(data)]
	if u == nil || len(b.free[len(data)]) >= int(slices.Max(u.peak[:])) {
		return // the garbage collector's: no recent run had this many out at once
	}
	u.out = max(u.out-1, 0)
	b.free[len(data)] = append(b.free[len(data)], freeBuf{data, b.run})
}

// lengthUse is Buffers' count of the buffers of one length.
type lengthUse struct {
	out  int32
	peak [keepRuns]int32 // by run, a ring
}

// get returns n floats, zeroed when zero is set and otherwise holding
// whatever they last held.
func (b *Buffers) get(n int, zero bool) []float32 {
	if b != nil {
		if b.use == nil {
			b.use = map[int]*lengthUse{}
		}
		u := b.use[n]
		if u == nil {
			u = &lengthUse{}
			b.use[n] = u
		}
		u.out++
		u.peak[b.run%keepRuns] = max(u.peak[b.run%keepRuns], u.out)
		if list := b.free[n]; len(list) > 0 {
			data := list[len(list)-1].data
			list[len(list)-1] = freeBuf{}
			b.free[n] = list[:len(list)-1]
			if zero {
				clear(data)
			}
			return b.dirty(data, zero)
		}
	}
	return b.dirty(make([]float32, n), zero)
}

func (b *Buffers) dirty(data []float32, zero bool) []float32 {
	if b != nil && b.Poison && !zero {
		nan := float32(math.NaN())
		for i := range data {
			data[i] = nan
		}
	}
	return data
}

// alloc returns a float tensor of the given shape from the node's
// Buffers: zeroed when zero is set, otherwise to be overwritten whole.
func (s *State) alloc(zero bool, shape ...int) *Tensor {
	return &Tensor{Shape: shape, Data: s.Buffers.get(Numel(shape), zero)}
}

// scratch returns n floats, contents undefined, for work within one
// Forward or Backward; hand them back with s.Buffers.Put.
func (s *State) scratch(n int) []float32 { return s.Buffers.get(n, false) }
