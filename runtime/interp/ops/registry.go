package ops

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/onnxguard/onnxguard/onnx"
)

// ErrUnsupported marks an operator, version or attribute setting that the
// interpreter does not implement. Test with errors.Is.
var ErrUnsupported = errors.New("unsupported")

// Op is one graph node ready to run.
type Op interface {
	// Forward computes the node's outputs, saving in s what Backward needs.
	Forward(s *State, in []*Tensor) ([]*Tensor, error)
	// Backward returns one gradient per input, nil where an input is not
	// differentiable or received no gradient. dy has one entry per output,
	// nil where no gradient reached that output.
	Backward(s *State, dy []*Tensor) ([]*Tensor, error)
}

// State is what a node keeps between its forward and backward passes, plus
// the mode it runs in. The executor owns one per node.
type State struct {
	// Training selects batch statistics in BatchNormalization and active
	// Dropout masks.
	Training bool
	// FreezeBatchNorm makes BatchNormalization use its running statistics,
	// and leave them unchanged, even in training mode.
	FreezeBatchNorm bool
	// Grad is set when a backward pass will follow; ops save only then.
	Grad bool
	// Rand draws Dropout masks; seeded by the executor.
	Rand *rand.Rand
	// Need holds, in a gradient pass (Forward and Backward), whether each
	// input's gradient is wanted; an op may skip the work for the others
	// and return nil there, and save in Forward only what the wanted
	// gradients read.
	Need []bool
	// Buffers, when set, supplies storage for outputs and scratch; the
	// executor gives storage back to it as values die.
	Buffers *Buffers
	// Kernels makes the node take the vector kernels' paths (the direct
	// convolution, the 2×2 max pool, the Relu mask, thin products) where
	// they apply, instead of the portable ones (im2col and the BLAS, the
	// Go pooling loops). The executor sets it when it compiles the node.
	Kernels bool
	// Limit is the most elements any one tensor of the node may hold: ops
	// whose outputs outgrow their inputs check against it before they
	// allocate. Zero means no budget beyond what int64 arithmetic allows.
	Limit int

	saved []*Tensor
	aux   any
	index []int32  // indices the op keeps from run to run (MaxPool's argmax)
	mask  reluMask // mask words the op keeps from run to run (masks)
}

// Save keeps tensors for Backward; it does nothing when no backward pass
// will follow.
func (s *State) Save(t ...*Tensor) {
	if s.Grad {
		s.saved = append(s.saved[:0], t...)
	}
}

// Saved returns the i-th saved tensor.
func (s *State) Saved(i int) *Tensor { return s.saved[i] }

// SetAux keeps op-specific data (argmax indices, masks) for Backward.
func (s *State) SetAux(v any) {
	if s.Grad {
		s.aux = v
	}
}

// Aux returns what SetAux kept.
func (s *State) Aux() any { return s.aux }

// Needs reports whether input i's gradient is wanted (true when unknown).
func (s *State) Needs(i int) bool { return i >= len(s.Need) || s.Need[i] }

// indices returns n int32s of storage that the node reuses from one run to
// the next: what one run wrote there is gone when the next runs Forward.
func (s *State) indices(n int) []int32 {
	if cap(s.index) < n {
		s.index = make([]int32, n)
	}
	return s.index[:n]
}

// masks returns n words of mask storage (a Relu's, a Clip's, a Conv's
// fused epilogue's), zeroed, that the node reuses from one run to the
// next as indices does: made anew each pass, MobileNet-V2's masks were 24
// MB of fresh memory a paper step, which the kernel then faulted in page
// by page.
func (s *State) masks(n int) reluMask {
	if s.mask == nil || cap(s.mask) < n { // non-nil even when empty, as make gave it
		s.mask = make(reluMask, n)
		return s.mask
	}
	s.mask = s.mask[:n]
	clear(s.mask)
	return s.mask
}

// Release drops what the node saved.
func (s *State) Release() { s.saved, s.aux = s.saved[:0], nil }

// Node is what a constructor reads: the graph node and where its model lives.
type Node struct {
	*onnx.Node
	Opset int64  // the model's opset for the default domain
	Dir   string // the model's folder, for tensors stored as external data
}

// constructor builds an Op from a node, parsing its attributes once.
type constructor func(n *Node) (Op, error)

type version struct {
	since int64
	make  constructor
}

var registry = map[string][]version{}

// register adds the implementation of op valid from opset since until a
// newer registration. Called from init functions, one per operator file.
func register(op string, since int64, make constructor) {
	vs := append(registry[op], version{since, make})
	sort.Slice(vs, func(i, j int) bool { return vs[i].since < vs[j].since })
	registry[op] = vs
}

// New builds the Op for node n, picking the newest registered version not
// above opset. Errors name the node and wrap ErrUnsupported where the
// interpreter lacks something.
func New(n *onnx.Node, opset int64, dir string) (Op, error) {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return nil, fmt.Errorf("%w: node %s: operator domain %q (only the default ONNX domain is implemented)", ErrUnsupported, n, n.Domain)
	}
	vs := registry[n.OpType]
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: node %s: operator %s is not implemented by the interpreter", ErrUnsupported, n, onnx.Printable(n.OpType))
	}
	var pick constructor
	for _, v := range vs {
		if v.since <= opset {
			pick = v.make
		}
	}
	if pick == nil {
		return nil, fmt.Errorf("%w: node %s: %s at opset %d (implemented from opset %d)", ErrUnsupported, n, onnx.Printable(n.OpType), opset, vs[0].since)
	}
	op, err := pick(&Node{Node: n, Opset: opset, Dir: dir})
	if err != nil {
		return nil, fmt.Errorf("node %s (opset %d): %w", n, opset, Malformed(err))
	}
	return op, nil
}

// Malformed marks err as a malformed model (onnx.ErrInvalid) unless it
// already says the interpreter lacks something (ErrUnsupported), that a
// tensor is too large (ErrTooLarge), or is marked: what an attribute or
// shape rule refuses is the model's fault.
func Malformed(err error) error {
	if err == nil || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge) || errors.Is(err, onnx.ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %w", onnx.ErrInvalid, err)
}

// Supported reports whether op type has an implementation at opset.
func Supported(opType string, opset int64) bool {
	for _, v := range registry[opType] {
		if v.since <= opset {
			return true
		}
	}
	return false
}

// Missing says, in a few words, why the interpreter cannot run node n at
// opset (the model's opset for the default domain), naming the operator
// and the opset: "Trilu (opset 13; implemented from opset 14)". It
// returns "" for a node the interpreter implements.
func Missing(n *onnx.Node, opset int64) string {
	op := onnx.Printable(n.OpType) // a name the model controls stays on one line
	if n.Domain != "" && n.Domain != "ai.onnx" {
		d := onnx.Printable(n.Domain)
		return fmt.Sprintf("%s:%s (domain %s)", d, op, d)
	}
	vs := registry[n.OpType]
	switch {
	case len(vs) == 0:
		return fmt.Sprintf("%s (opset %d)", op, opset)
	case vs[0].since > opset:
		return fmt.Sprintf("%s (opset %d; implemented from opset %d)", op, opset, vs[0].since)
	}
	return ""
}

// indexOnly lists the operators whose outputs carry no gradient: they
// compute shapes, indices, comparisons or constants. A model may use them
// freely, as long as the path from its input to its logits avoids them.
var indexOnly = map[string]bool{
	"Shape": true, "Size": true, "ArgMax": true, "Range": true, "Constant": true, "ConstantOfShape": true,
	"Equal": true, "Greater": true, "Less": true, "GreaterOrEqual": true, "LessOrEqual": true,
	"Not": true, "And": true, "Or": true,
	// Step functions: their gradient is 0 wherever it exists (floor.go).
	"Floor": true, "Ceil": true, "Round": true, "Sign": true, "Hardmax": true, "OneHot": true,
	"ArgMin": true, "IsNaN": true, "IsInf": true,
}

// Differentiable reports whether gradients flow through op type's outputs
// to its float inputs.
func Differentiable(opType string) bool { return !indexOnly[opType] }

// SavedTensors returns what Save kept: the executor keeps their storage
// alive until the node's backward pass is over. A backward rule reads its
// inputs and outputs only through what it saved.
func (s *State) SavedTensors() []*Tensor { return s.saved }
