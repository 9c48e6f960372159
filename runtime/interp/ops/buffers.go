package ops

import "github.com/onnxguard/onnxguard/runtime/interp/internal/mem"

// Buffers is the program's pool of float storage (package mem): the
// executor gives back the storage of values that died, and the ops take
// their outputs and scratch from it. A nil *Buffers allocates.
type Buffers = mem.Pool

// alloc returns a float tensor of the given shape from the node's
// Buffers: zeroed when zero is set, otherwise to be overwritten whole.
func (s *State) alloc(zero bool, shape ...int) *Tensor {
	return &Tensor{Shape: shape, Data: s.Buffers.Get(Numel(shape), zero)}
}

// scratch returns n floats, contents undefined, for work within one
// Forward or Backward; hand them back with s.Buffers.Put.
func (s *State) scratch(n int) []float32 { return s.Buffers.Get(n, false) }
