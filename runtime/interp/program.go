package interp

import (
	"fmt"
	"math/rand/v2"

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
}

// Param is a floating-point initializer: a weight, a bias or a running
// statistic. Training updates T.Data in place.
type Param struct {
	Name string
	T    *Tensor
}

// Program is a compiled model. It is not safe for concurrent use.
type Program struct {
	Graph    *onnx.Graph
	Input    onnx.ValueInfo
	Training bool // training mode; see the package documentation
	// FreezeBatchNorm makes BatchNormalization use and keep its running
	// statistics in training mode, as in inference; Dropout stays active.
	// Fine-tuning with small or adversarial batches uses it so the
	// statistics the model was deployed with are not disturbed.
	FreezeBatchNorm bool

	nodes   []node
	slots   map[string]int
	consts  []*Tensor // initializer and Constant values by slot, nil for computed ones
	params  []Param
	input   int
	outputs []int
	logits  int   // slot the loss reads
	lastUse []int // index of the last node reading each slot
	shapes  map[string][]int
	rng     *rand.Rand
	buffers *ops.Buffers // storage recycled from one run to the next
	budget  int64        // Options.MaxMemory resolved
	noPools bool         // Options.NoPoolFusion
	dryRun  bool         // the compile-time run: every value is kept, and counted against the budget
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
		buffers: &ops.Buffers{}, budget: opt.budget(), noPools: opt.NoPoolFusion}
	slot := func(name string) int {
		if s, ok := p.slots[name]; ok {
			return s
		}
		p.slots[name] = len(p.consts)
		p.consts = append(p.consts, nil)
		return p.slots[name]
	}
	for _, name := range g.InitializerNames() {
		t, _, err := g.Initializer(name)
		if err != nil {
			return nil, err
		}
		v := ops.FromONNX(t)
		p.consts[slot(name)] = v
		if !v.IsInt() {
			p.params = append(p.params, Param{Name: name, T: v})
		}
	}
	for _, in := range g.Inputs {
		slot(in.Name)
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
		if n.OpType == "Constant" && len(n.Outputs) == 1 {
			// A Constant's value is the same every run: it is held like an
			// initializer (not trained), so the executor never hands its
			// storage back for reuse as it does a computed value's.
			v, err := op.Forward(&ops.State{}, nil)
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n, err))
				continue
			}
			p.consts[slot(n.Outputs[0])] = v[0]
			continue
		}
		nd := node{n: n, op: op}
		for _, in := range n.Inputs {
			if in == "" {
				nd.in = append(nd.in, -1)
			} else {
				nd.in = append(nd.in, slot(in))
			}
		}
		for _, out := range n.Outputs {
			nd.out = append(nd.out, slot(out))
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
	p.logits = p.outputs[0]
	for i := len(p.nodes) - 1; i >= 0; i-- {
		nd := p.nodes[i]
		if len(nd.out) > 0 && nd.out[0] == p.logits && len(nd.in) > 0 && nd.in[0] >= 0 &&
			(nd.n.OpType == "Softmax" || nd.n.OpType == "LogSoftmax") {
			p.logits = nd.in[0]
			break
		}
	}
	p.findLastUses()
	return p, nil
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

// fuseNodes folds every Relu whose input is a Conv's output read by nothing
// else into that Conv (ops.FuseRelu), saving a pass over memory each way,
// and then a MaxPool that alone reads a Conv's output into the Conv
// (ops.FusePool). It runs after shape inference, so Shapes still lists
// the values fused away.
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
	nodes := fuseInto(p.nodes, readers, func(prev, nd *node) (ops.Op, bool) {
		if nd.n.OpType != "Relu" {
			return nil, false
		}
		return ops.FuseRelu(prev.op)
	})
	// A MaxPool that alone reads a Conv's output joins the Conv where
	// ops.FusePool takes the pair (2×2 windows, the direct kernel).
	fused := fuseInto(nodes, readers, func(prev, nd *node) (ops.Op, bool) {
		if nd.n.OpType != "MaxPool" || p.noPools || len(prev.n.Inputs) < 2 {
			return nil, false
		}
		return ops.FusePool(prev.op, nd.op, p.shapes[prev.n.Inputs[0]], p.shapes[prev.n.Inputs[1]], prev.state.Kernels)
	})
	clear(p.nodes[len(fused):])
	p.nodes = fused
	p.findLastUses()
}

// fuseInto returns nodes (filtered in place) with each one-input,
// one-output node whose input only it reads, written by a one-output
// node before it, joined to that node where join gives the joined op:
// the earlier node takes the op and the later one's output.
func fuseInto(nodes []node, readers []int, join func(prev, nd *node) (ops.Op, bool)) []node {
	producer := map[int]int{} // slot → index in out of the node writing it
	out := nodes[:0]
	for _, nd := range nodes {
		if len(nd.in) == 1 && len(nd.out) == 1 && nd.in[0] >= 0 && readers[nd.in[0]] == 1 {
			if j, ok := producer[nd.in[0]]; ok && len(out[j].out) == 1 {
				if op, ok := join(&out[j], &nd); ok {
					out[j].op, out[j].out = op, nd.out
					producer[nd.out[0]] = j
					continue
				}
			}
		}
		for _, s := range nd.out {
			producer[s] = len(out)
		}
		out = append(out, nd)
	}
	return out
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

// ModeMatters reports whether Training changes what the program
// computes: it has a Dropout, or a BatchNormalization that FreezeBatchNorm
// does not hold to its running statistics. Where it does not, a pass in
// inference mode gives a training step's values and gradients.
func (p *Program) ModeMatters() bool {
	for _, nd := range p.nodes {
		switch nd.n.OpType {
		case "Dropout":
			return true
		case "BatchNormalization":
			if !p.FreezeBatchNorm {
				return true
			}
		}
	}
	return false
}

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

// forward runs every node. With keepAll it keeps every value (for the
// dry run and the backward pass); otherwise values are dropped after their
// last reader. grad makes the ops save what Backward needs.
func (p *Program) forward(x *Tensor, grad, keepAll bool) ([]*Tensor, error) {
	return p.forwardFeeds(map[int]*Tensor{p.input: x}, grad, keepAll)
}

// forwardFeeds is forward with any set of graph inputs fed by slot.
func (p *Program) forwardFeeds(feeds map[int]*Tensor, grad, keepAll bool) ([]*Tensor, error) {
	p.buffers.NextRun()
	vals := make([]*Tensor, len(p.consts))
	copy(vals, p.consts)
	for s, t := range feeds {
		vals[s] = t
	}
	in := make([]*Tensor, 0, 8)
	var held int64 // bytes the dry run keeps
	seen := map[*float32]bool{}
	for i := range p.nodes {
		nd := &p.nodes[i]
		nd.state.Release()
		nd.state.Training, nd.state.Grad = p.Training, grad
		nd.state.FreezeBatchNorm = p.FreezeBatchNorm
		in = in[:0]
		for _, s := range nd.in {
			if s < 0 {
				in = append(in, nil)
			} else {
				in = append(in, vals[s])
			}
		}
		outs, err := nd.op.Forward(&nd.state, in)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", nd.n, err)
		}
		if len(outs) < len(nd.out) {
			// Optional trailing outputs (Dropout's mask, BatchNorm's
			// statistics) that the op does not produce must be unused.
			for j := len(outs); j < len(nd.out); j++ {
				if p.lastUse[nd.out[j]] >= 0 && nd.n.Outputs[j] != "" {
					return nil, fmt.Errorf("%w: node %s: output %d (%q) is used but not produced", ErrUnsupported, nd.n, j, nd.n.Outputs[j])
				}
			}
		}
		for j, s := range nd.out {
			if j < len(outs) {
				vals[s] = outs[j]
			}
		}
		if p.dryRun {
			held += newBytes(outs, seen)
			if held > p.budget {
				return nil, fmt.Errorf("node %s: the values of one sample need more than %s, %w of %s", nd.n, ops.Bytes(held), ErrTooLarge, ops.Bytes(p.budget))
			}
		}
		if !keepAll {
			p.dropInputs(i, vals, feeds)
		}
	}
	return vals, nil
}

// dropInputs recycles the values that node i was the last to read.
func (p *Program) dropInputs(i int, vals []*Tensor, feeds map[int]*Tensor) {
	for _, s := range p.nodes[i].in {
		if _, fed := feeds[s]; s >= 0 && p.lastUse[s] == i && p.consts[s] == nil && !fed {
			t := vals[s]
			vals[s] = nil
			p.recycle(t, vals)
		}
	}
}

// Run computes the graph's outputs for a batch.
func (p *Program) Run(x *Tensor) ([]*Tensor, error) {
	if err := p.CheckInput(x); err != nil {
		return nil, err
	}
	vals, err := p.forward(x, false, false)
	if err != nil {
		return nil, err
	}
	outs := make([]*Tensor, len(p.outputs))
	for i, s := range p.outputs {
		outs[i] = vals[s]
	}
	return outs, nil
}
