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
// written again: their room is simply not kept.
type room struct {
	mu   sync.Mutex
	free map[roomKey][][]ort.Tensor
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

// take returns a set of outputs kept for k, nil if there is none; the
// caller owns it from then on.
func (r *room) take(k roomKey) []ort.Tensor {
	r.mu.Lock()
	defer r.mu.Unlock()
	sets := r.free[k]
	if len(sets) == 0 {
		return nil
	}
	set := sets[len(sets)-1]
	r.free[k] = sets[:len(sets)-1]
	return set
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
	if r.free == nil {
		r.free = map[roomKey][][]ort.Tensor{}
	}
	if len(r.free[k]) < roomSets {
		r.free[k] = append(r.free[k], set)
	}
}

// drop lets go of every set kept.
func (r *room) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.free = nil
}
