package gradgraph

import (
	"sync"

	"github.com/onnxguard/onnxguard/runtime/ort"
)

// room keeps the outputs of results their callers have released, by the
// outputs a run computes and its batch, for the next such run to compute
// in (ort.Graph.RunInto): a training pass's weight gradients, 100 MB a
// pass on ResNet-50, then go to the same memory each pass instead of to
// memory ONNX Runtime allocates and the binding copies into fresh Go
// memory. A run with the same outputs and batch gives outputs of the same
// shapes, which RunInto requires. Results never released are never
// written again: their room is simply not kept; nor is a set no run took
// again for roomRuns runs.
type room struct {
	mu     sync.Mutex
	free   map[roomKey][]roomSet
	runs   int  // runs that asked for room (take), the room's clock
	closed bool // the engine closed: keep nothing more
}

// A roomSet is one run's outputs, given back at run given.
type roomSet struct {
	outs  []ort.Tensor
	given int
}

// roomKey names the runs that can share room: their outputs (as the
// session that computes them is keyed) and batch.
type roomKey struct {
	outputs string
	batch   int
}

// roomSets is the most sets of outputs kept for one key: a paper step
// holds one result at a time per session, an attack one.
const roomSets = 2

// roomRuns is how many runs a set stays kept without being taken again,
// as the interpreter's pool keeps storage (mem.KeepRuns): a paper step
// runs two keys in turn, each taking its set back every other run, while
// a last partial batch's set, of a batch size no later run has, goes.
const roomRuns = 4

// take returns a set of outputs kept for k, nil if there is none; the
// caller owns it from then on. Each call is a run on the room's clock,
// and lets go of the sets no run took for roomRuns runs.
func (r *room) take(k roomKey) []ort.Tensor {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs++
	for key, sets := range r.free {
		kept := sets[:0]
		for _, set := range sets {
			if set.given >= r.runs-roomRuns {
				kept = append(kept, set)
			}
		}
		clear(sets[len(kept):])
		if len(kept) == 0 {
			delete(r.free, key)
		} else {
			r.free[key] = kept
		}
	}
	sets := r.free[k]
	if len(sets) == 0 {
		return nil
	}
	set := sets[len(sets)-1]
	r.free[k] = sets[:len(sets)-1]
	return set.outs
}

// give keeps outs, a run's outputs for k that their caller is done with,
// for a later run: the float32 ones with at least one axis, which RunInto
// can compute in.
func (r *room) give(k roomKey, outs []ort.Tensor) {
	set := make([]ort.Tensor, len(outs))
	for i, t := range outs {
		if t.Float != nil && len(t.Shape) > 0 {
			set[i] = t
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.free == nil {
		r.free = map[roomKey][]roomSet{}
	}
	if len(r.free[k]) < roomSets {
		r.free[k] = append(r.free[k], roomSet{set, r.runs})
	}
}

// close lets go of every set kept, and of every set given later.
func (r *room) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.free, r.closed = nil, true
}
