package interp

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// ErrUnsupported marks a model the interpreter cannot run; it is the same
// value as ops.ErrUnsupported, so errors.Is works with either.
var ErrUnsupported = ops.ErrUnsupported

// Tensor is the interpreter's tensor type.
type Tensor = ops.Tensor

// Options tune a Program; the zero value is usable.
type Options struct {
	// Seed seeds the Dropout masks drawn in training mode.
	Seed uint64
	// MaxMemory is the memory budget in bytes: a model whose declared
	// input, or whose tensors inferred for one sample, need more is
	// refused at compile time, before anything that size is allocated.
	// 0 means DefaultMaxMemory.
	MaxMemory int64
	// Kernels says whether the operators take the vector kernels' paths
	// (kernels.go); the zero value takes them where the CPU runs them.
	Kernels KernelMode
	// NoPoolFusion keeps each MaxPool apart from the Conv before it, for
	// tests that compare the fused op with the two.
	NoPoolFusion bool
	// NoChainFusion keeps each depthwise Conv apart from the 1×1 Conv
	// before it (ops.ChainFusion), for tests that compare the two.
	NoChainFusion bool
}

// Param is a floating-point initializer: a weight, a bias or a running
// statistic. Training updates T.Data in place.
type Param struct {
	Name string
	T    *Tensor
}

// Program is a compiled model. It is not safe for concurrent use.
type Program struct {
	Graph *onnx.Graph
	Input onnx.ValueInfo

	nodes     []node
	slots     map[string]int
	consts    []*Tensor // initializer and Constant values by slot, nil for computed ones
	params    []Param
	input     int
	outputs   []int
	logits    int   // slot the loss reads
	lastUse   []int // index of the last node reading each slot
	shapes    map[string][]int
	rng       *rand.Rand
	buffers   *ops.Buffers // storage recycled from one run to the next
	budget    int64        // Options.MaxMemory resolved
	noPools   bool         // Options.NoPoolFusion
	noChains  bool         // Options.NoChainFusion
	dryRun    bool         // the compile-time run: every value is counted against the budget
	dryShapes [][]int      // the dry run's value shapes, by slot

	// What a gradient pass keeps between its forward and backward
	// halves: pins[i] is what node i saved for its backward rule, and
	// runShapes the shape of every value computed, so that values no
	// backward rule reads die at their last forward use.
	pins      [][]*Tensor
	runShapes [][]int
	keepAll   bool // tests: gradient passes keep every value, as before pins
}

type node struct {
	n     *onnx.Node
	op    ops.Op
	in    []int // slot per input, -1 for an omitted optional input
	out   []int
	state ops.State
}

// Compile builds a Program from a model, failing on any operator, attribute
// or shape the interpreter cannot handle.
func Compile(m *onnx.Model, opt *Options) (*Program, error) {
	p, err := compile(m, opt)
	if err != nil {
		return nil, err
	}
	g := p.Graph
	if len(g.Inputs) != 1 {
		names := make([]string, len(g.Inputs))
		for i, in := range g.Inputs {
			names[i] = in.Name
		}
		return nil, fmt.Errorf("%w: the graph has %d inputs %q; onnxguard handles image classifiers with one input", ErrUnsupported, len(g.Inputs), names)
	}
	p.Input = g.Inputs[0]
	p.input = p.slots[p.Input.Name]
	if p.Input.ElemType != onnx.TensorProto_FLOAT {
		return nil, fmt.Errorf("%w: input %q has element type %v; the interpreter takes float32 images", ErrUnsupported, p.Input.Name, p.Input.ElemType)
	}
	if err := p.inferShapes(); err != nil {
		return nil, err
	}
	p.fuseNodes()
	return p, nil
}

// compile resolves every node to an Op and every value to a slot; it
// accepts any number of inputs, as the operator conformance tests need.
func compile(m *onnx.Model, opt *Options) (*Program, error) {
	if opt == nil {
		opt = &Options{}
	}
	g, err := m.Graph()
	if err != nil {
		return nil, err
	}
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("%w: the graph has no outputs", onnx.ErrInvalid)
	}
	p := &Program{Graph: g, slots: map[string]int{}, input: -1, rng: rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15)),
		buffers: &ops.Buffers{}, budget: opt.budget(), noPools: opt.NoPoolFusion, noChains: opt.NoChainFusion}
	if err := p.loadInitializers(); err != nil {
		return nil, err
	}
	for _, in := range g.Inputs {
		p.slot(in.Name)
	}
	var errs []error
	if err := missingOps(g); err != nil {
		errs = append(errs, err)
	}
	for _, n := range g.Nodes {
		if ops.Missing(n, g.Opset) != "" {
			continue // listed by missingOps
		}
		op, err := ops.New(n, g.Opset, m.Dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, ok := op.(ops.Foldable); ok && len(n.Outputs) == 1 {
			// The value is the same every run: it is held like an
			// initializer (not trained), so the executor never hands its
			// storage back for reuse as it does a computed value's.
			v, err := op.Forward(&ops.State{}, nil)
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n, err))
				continue
			}
			p.consts[p.slot(n.Outputs[0])] = v[0]
			continue
		}
		nd := node{n: n, op: op}
		for _, in := range n.Inputs {
			if in == "" {
				nd.in = append(nd.in, -1)
			} else {
				nd.in = append(nd.in, p.slot(in))
			}
		}
		for _, out := range n.Outputs {
			nd.out = append(nd.out, p.slot(out))
		}
		nd.state.Rand, nd.state.Buffers, nd.state.Kernels = p.rng, p.buffers, opt.Kernels.on()
		nd.state.Limit = elemLimit(p.budget)
		p.nodes = append(p.nodes, nd)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	for _, o := range g.Outputs {
		p.outputs = append(p.outputs, p.slots[o.Name])
	}
	p.logits = p.findLogits()
	p.findLastUses()
	return p, nil
}

// slot returns the slot of the value name, giving it one if it has none.
func (p *Program) slot(name string) int {
	if s, ok := p.slots[name]; ok {
		return s
	}
	p.slots[name] = len(p.consts)
	p.consts = append(p.consts, nil)
	return p.slots[name]
}

// loadInitializers gives every initializer a slot holding its value; the
// floating-point ones are the parameters.
func (p *Program) loadInitializers() error {
	g := p.Graph
	for _, name := range g.InitializerNames() {
		t, _, err := g.Initializer(name)
		if err != nil {
			return err
		}
		v := ops.FromONNX(t)
		p.consts[p.slot(name)] = v
		if !v.IsInt() {
			p.params = append(p.params, Param{Name: name, T: v})
		}
	}
	return nil
}

// findLogits returns the slot the loss reads: the graph's first output,
// or the input of the node that turns it into probabilities
// (ops.Normalizer).
func (p *Program) findLogits() int {
	out := p.outputs[0]
	for i := len(p.nodes) - 1; i >= 0; i-- {
		nd := p.nodes[i]
		if _, ok := nd.op.(ops.Normalizer); ok && len(nd.out) > 0 && nd.out[0] == out && len(nd.in) > 0 && nd.in[0] >= 0 {
			return nd.in[0]
		}
	}
	return out
}

// findLastUses records, for every slot, the index of the last node that
// reads it; outputs and the logits stay to the end.
func (p *Program) findLastUses() {
	p.lastUse = make([]int, len(p.consts))
	for i := range p.lastUse {
		p.lastUse[i] = -1
	}
	for i, nd := range p.nodes {
		for _, s := range nd.in {
			if s >= 0 {
				p.lastUse[s] = i
			}
		}
	}
	for _, s := range append(p.outputs, p.logits) {
		p.lastUse[s] = len(p.nodes)
	}
}

// fuseNodes applies the pattern rules the operators register
// (ops.Patterns), then their pairwise fusion rules (ops.Fusions), over and
// over until none applies, so that rules chain.
// It runs after shape inference, so Shapes still lists the values fused
// away.
func (p *Program) fuseNodes() {
	readers := make([]int, len(p.consts))
	for _, nd := range p.nodes {
		for _, s := range nd.in {
			if s >= 0 {
				readers[s]++
			}
		}
	}
	for _, s := range append(p.outputs, p.logits) {
		readers[s]++
	}
	nodes := p.fusePatterns(p.nodes, readers)
	// Rules that join two operators with operands of their own (two
	// Convs) apply only where no other rule does, so that each of the
	// pair has first taken what follows it (its Clip, Relu or gate).
	for _, operands := range []bool{false, true} {
		for fused := true; fused; {
			fused = false
			for _, f := range ops.Fusions() {
				if p.noPools && f.Name == ops.PoolFusion || p.noChains && f.Name == ops.ChainFusion || f.Operands != operands {
					continue
				}
				before := len(nodes)
				nodes = fuseInto(nodes, readers, f, func(prev, nd *node) (ops.Op, bool) {
					if prev.n.OpType != f.First || nd.n.OpType != f.Then {
						return nil, false
					}
					return f.Join(prev.op, nd.op, p.inputShapes(prev.n), prev.state.Kernels)
				})
				fused = fused || len(nodes) < before
			}
		}
	}
	clear(p.nodes[len(nodes):])
	p.nodes = nodes
	p.findLastUses()
}

// inputShapes returns the shapes inferred for n's inputs, nil where
// unknown or omitted.
func (p *Program) inputShapes(n *onnx.Node) [][]int {
	shapes := make([][]int, len(n.Inputs))
	for i, name := range n.Inputs {
		if name != "" {
			shapes[i] = p.shapes[name]
		}
	}
	return shapes
}

// fuseInto returns nodes (filtered in place) with each one-output node
// that reads the output of a one-output node before it, and nothing else
// reads, joined to that node where join gives the joined op: the earlier
// node takes the op and the later one's output (and, for f.Operands, the
// later one's other inputs after its own). The later node reads
// nothing else; or, for a gate (Fusion.Gate), the earlier node's one
// input besides; or, for f.Operands, values the earlier node's place
// already has (initializers, constants, outputs of nodes before it).
// readers is kept up to date.
func fuseInto(nodes []node, readers []int, f ops.Fusion, join func(prev, nd *node) (ops.Op, bool)) []node {
	producer := map[int]int{} // slot → index in out of the node writing it
	out := nodes[:0]
	for _, nd := range nodes {
		if j, ok := fusesWith(nd, out, producer, readers, f); ok {
			if op, ok := join(&out[j], &nd); ok {
				if f.Gate { // the fused node reads x once
					readers[out[j].in[0]]--
				}
				if f.Operands {
					out[j].in = append(slices.Clip(out[j].in), nd.in[1:]...)
				}
				out[j].op, out[j].out = op, nd.out
				producer[nd.out[0]] = j
				continue
			}
		}
		for _, s := range nd.out {
			producer[s] = len(out)
		}
		out = append(out, nd)
	}
	return out
}

// fusesWith returns the index in out of the node nd may join, by the
// shape of the pair alone (fuseInto).
func fusesWith(nd node, out []node, producer map[int]int, readers []int, f ops.Fusion) (int, bool) {
	gate := f.Gate
	if len(nd.out) != 1 || len(nd.in) != 1+pick(gate) && !f.Operands || len(nd.in) == 0 {
		return 0, false
	}
	ins := nd.in
	if f.Operands { // the first input alone is First's output
		ins = ins[:1]
	}
	for k, s := range ins {
		if s < 0 || readers[s] != 1 {
			continue
		}
		j, ok := producer[s]
		if !ok || len(out[j].out) != 1 {
			continue
		}
		if f.Operands && !computedBefore(nd.in[1:], producer, j) {
			return 0, false
		}
		if !gate {
			return j, true
		}
		if x := nd.in[1-k]; len(out[j].in) == 1 && out[j].in[0] == x && x >= 0 {
			return j, true
		}
	}
	return 0, false
}

// computedBefore reports whether each of slots is there at node j's
// place: given (no node writes it) or written by a node before j. An
// Operands rule puts the later node's other inputs on the earlier node,
// and a value computed between the two (a weight through Identity or
// DequantizeLinear) would not be there yet.
func computedBefore(slots []int, producer map[int]int, j int) bool {
	for _, s := range slots {
		if k, ok := producer[s]; ok && k >= j {
			return false
		}
	}
	return true
}

// pick is 1 for true and 0 for false.
func pick(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Reseed restarts the generator Dropout draws its masks from, as if the
// Program had been compiled with Options.Seed = seed. A training loop
// reseeds before every step from its own position (seed, epoch, step), so a
// run resumed from a checkpoint draws the masks an uninterrupted one would.
func (p *Program) Reseed(seed uint64) {
	p.rng = rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for i := range p.nodes {
		p.nodes[i].state.Rand = p.rng
	}
}

// ModeMatters reports whether a pass in mode m computes something other
// than inference does: m is training and the program has a Dropout, or a
// BatchNormalization that m.FreezeBatchNorm does not hold to its running
// statistics. Where it does not, a pass in inference mode gives a training
// step's values and gradients.
func (p *Program) ModeMatters(m Mode) bool {
	if !m.Training {
		return false
	}
	for _, nd := range p.nodes {
		if d, ok := nd.op.(ops.ModeDependent); ok && d.ModeDependent(m.FreezeBatchNorm) {
			return true
		}
	}
	return false
}

// InputInfo returns the declaration of the model's input, p.Input.
func (p *Program) InputInfo() onnx.ValueInfo { return p.Input }

// Params returns the floating-point initializers in file order.
func (p *Program) Params() []Param { return p.params }

// Shapes returns the shape of every value inferred at compile time, with -1
// for dimensions that follow the batch size.
func (p *Program) Shapes() map[string][]int { return p.shapes }

// CheckInput reports whether x fits the model's input.
func (p *Program) CheckInput(x *Tensor) error {
	decl := p.Input.Shape
	if len(x.Shape) != len(decl) {
		return fmt.Errorf("input %q wants rank %d %v, got %v", p.Input.Name, len(decl), decl, x.Shape)
	}
	for i, d := range decl {
		if d > 0 && int(d) != x.Shape[i] {
			return fmt.Errorf("input %q wants shape %v, got %v", p.Input.Name, decl, x.Shape)
		}
	}
	if x.IsInt() || len(x.Data) != x.Len() {
		return fmt.Errorf("input %q: %d float values for shape %v", p.Input.Name, len(x.Data), x.Shape)
	}
	return nil
}
