package gradgraph

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// ErrUnsupported marks a model with an operator, attribute or opset that
// has no symbolic backward here; it wraps onnx.ErrUnsupported.
var ErrUnsupported = fmt.Errorf("gradgraph: %w", onnx.ErrUnsupported)

// MinOpset is the oldest default-domain opset Build accepts. The gradient
// graph is written at opset max(model's, emitOpset): the operator versions
// between 13 and 16 only add types and attributes with backward-compatible
// defaults, so the forward nodes keep their meaning.
const (
	MinOpset  = 13
	emitOpset = 16 // ScatterElements' reduction="add", Shape's start and end
)

// Options tune Build; nil means defaults.
type Options struct {
	// Weights adds d loss / d W for every floating-point initializer as
	// outputs, after the input gradient.
	Weights bool
	// FeedWeights implies Weights and makes every weight (every float
	// initializer, running statistics included, which training-mode
	// BatchNormalization updates) a graph input instead of an initializer
	// (Graph.Fed): a trainer feeds their current values on every run
	// (Engine.Feed), so that its updates take effect without building the
	// graph again, and the session holds no copy of them.
	FeedWeights bool
	// MaxMemory is the memory budget of the shape inference (see
	// interp.Options); 0 means interp.DefaultMaxMemory.
	MaxMemory int64
	// Program, where set, is the model already compiled by the
	// interpreter, whose inferred shapes Build reads instead of compiling
	// the model again (a second decode of every weight).
	Program *interp.Program
}

// Graph is a built gradient graph and the names of what it reads and writes.
type Graph struct {
	Model *onnx.Model
	// Inputs: the model's image input and the labels, int64 [N].
	Input, Labels string
	// Outputs, in this order: the logits the loss reads (the model's first
	// output, or the input of a final Softmax or LogSoftmax, as for the
	// interpreter), the loss (a float scalar), d loss / d input, and with
	// Options.Weights one gradient per Params entry.
	Logits, Loss, InputGrad string
	Params, ParamGrads      []string
	// Reached, aligned with Params, says which weights the loss depends
	// on; the others' gradient outputs are zeros (the interpreter gives
	// them none).
	Reached []bool
	// Fed is set with Options.FeedWeights: every Params entry is a graph
	// input, after Input and Labels, in Params' order.
	Fed bool
	// Outputs are the model's own outputs, which the graph writes last
	// (those that are not the logits), for inference without a second
	// model.
	Outputs []string
	// Batch is the model's fixed batch size, 0 when the batch is dynamic.
	Batch int

	// sites are the parts with a blocked form for ONNX Runtime's CPU
	// kernels (Blocked); used, every name Model holds.
	sites []site
	used  map[string]bool
	// For the blocked form's chains (nchwcchain.go): the forward Convs
	// they can take, how many of Model's nodes are the forward pass's
	// (they come first), and the values' static shapes.
	convs        []chainConv
	forwardNodes int
	shapes       map[string][]int
}

// Build returns the gradient graph of m, a classifier with one float input.
func Build(m *onnx.Model, opt *Options) (*Graph, error) {
	if opt == nil {
		opt = &Options{}
	}
	g, err := m.Graph()
	if err != nil {
		return nil, err
	}
	if g.Opset < MinOpset {
		return nil, fmt.Errorf("%w: the model is opset %d; gradient graphs need opset %d or later (convert it with onnx.version_converter)", ErrUnsupported, g.Opset, MinOpset)
	}
	p, err := opt.Program, error(nil)
	if p == nil {
		p, err = interp.Compile(m, &interp.Options{MaxMemory: opt.MaxMemory})
	}
	if errors.Is(err, interp.ErrUnsupported) {
		return nil, fmt.Errorf("%w: the interpreter, which infers the shapes, cannot run the model: %v", ErrUnsupported, err)
	} else if err != nil {
		return nil, fmt.Errorf("inferring shapes: %w", err)
	}
	b := &builder{g: g, dir: m.Dir, shapes: p.Shapes(), forward: map[*onnx.Node]*onnx.NodeProto{},
		used: map[string]bool{}, consts: map[string]string{}, shapeOf: map[string]string{},
		need: map[string]bool{}, grads: map[string][]string{}, summed: map[string]string{}, spread: map[string]string{}}
	fwd := b.copyForward(m)
	gr := &Graph{Input: p.Input.Name, Logits: logitsOf(g)}
	if d := p.Input.Shape[0]; d > 0 {
		gr.Batch = int(d)
	}
	b.used[gr.Input] = true
	var params []string
	if opt.Weights || opt.FeedWeights {
		for _, prm := range p.Params() {
			params = append(params, prm.Name)
		}
	}
	b.markNeeds(gr.Input, params)
	gr.Labels = b.uniqueName("labels")
	dlogits := ""
	gr.Loss, dlogits, err = b.loss(gr.Logits, gr.Labels)
	if err != nil {
		return nil, err
	}
	b.grads[gr.Logits] = []string{dlogits}
	gr.Loss = b.rank1(gr.Loss, "loss")
	if err := b.backward(); err != nil {
		return nil, err
	}
	gr.InputGrad = b.leafGrad(gr.Input, "input_grad")
	gr.Fed = opt.FeedWeights
	for _, name := range params {
		gr.Params = append(gr.Params, name)
		gr.Reached = append(gr.Reached, b.gradOf(name) != "")
		gr.ParamGrads = append(gr.ParamGrads, b.leafGrad(name, name+"_grad"))
	}
	for _, o := range g.Outputs {
		gr.Outputs = append(gr.Outputs, o.Name)
	}
	gr.sites, gr.used, gr.convs, gr.forwardNodes, gr.shapes = b.sites, b.used, b.convs, len(fwd), b.shapes
	gr.Model, err = b.model(m, fwd, gr)
	return gr, err
}

// copyForward returns copies of the forward nodes, which the gradient graph
// holds, and takes every name the model declares: its values, weights,
// inputs, outputs and value_info, which the graph copies, so that no new
// value (Blocked's included) takes one of them.
func (b *builder) copyForward(m *onnx.Model) []*onnx.NodeProto {
	fwd := make([]*onnx.NodeProto, len(b.g.Nodes))
	for i, n := range b.g.Nodes {
		fwd[i] = proto.Clone(n.Proto).(*onnx.NodeProto)
		b.forward[n] = fwd[i]
		for _, o := range n.Outputs {
			b.used[o] = true
		}
	}
	for _, name := range b.g.InitializerNames() {
		b.used[name] = true
	}
	gp := m.Proto.GetGraph()
	for _, vis := range [][]*onnx.ValueInfoProto{gp.GetInput(), gp.GetValueInfo(), gp.GetOutput()} {
		for _, vi := range vis {
			b.used[vi.GetName()] = true
		}
	}
	return fwd
}

// logitsOf returns the tensor the loss reads, as interp.Compile picks it.
func logitsOf(g *onnx.Graph) string {
	out := g.Outputs[0].Name
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		if len(n.Outputs) > 0 && n.Outputs[0] == out && len(n.Inputs) > 0 && n.Inputs[0] != "" &&
			(n.OpType == "Softmax" || n.OpType == "LogSoftmax") {
			return n.Inputs[0]
		}
	}
	return out
}

func (b *builder) uniqueName(base string) string {
	name := base
	for i := 2; b.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	b.used[name] = true
	return name
}

// markNeeds marks the values computed from the input or a wanted parameter
// through operators that carry a gradient.
func (b *builder) markNeeds(input string, params []string) {
	b.need[input] = true
	for _, p := range params {
		b.need[p] = true
	}
	for _, n := range b.g.Nodes {
		if carriesNone(n) {
			continue
		}
		flows := false
		for _, in := range n.Inputs {
			flows = flows || in != "" && b.need[in]
		}
		if flows {
			for _, o := range n.Outputs {
				b.need[o] = true
			}
		}
	}
}

// noGradient lists operators whose outputs are integers, booleans or
// piecewise constant: no gradient flows through them.
var noGradient = map[string]bool{
	"Shape": true, "Size": true, "Constant": true, "ConstantOfShape": true, "Equal": true,
	"Greater": true, "Less": true, "GreaterOrEqual": true, "LessOrEqual": true, "Not": true,
	"And": true, "Or": true, "Xor": true, "ArgMax": true, "ArgMin": true, "NonZero": true,
	"Range": true, "IsNaN": true, "IsInf": true,
	// Piecewise constant: their gradient is zero, as in the interpreter.
	"Floor": true, "Ceil": true, "Round": true, "Sign": true, "Hardmax": true,
}

// carriesNone reports whether no gradient flows through n.
func carriesNone(n *onnx.Node) bool {
	return noGradient[n.OpType] || n.OpType == "Cast" && !castsToFloat(n)
}

func castsToFloat(n *onnx.Node) bool {
	to, err := n.Int("to", 0)
	return err == nil && onnx.TensorProto_DataType(to) == onnx.TensorProto_FLOAT
}

// backward visits the forward nodes in reverse order, emitting the backward
// nodes of each that the loss reaches and that leads to a wanted leaf.
func (b *builder) backward() error {
	for i := len(b.g.Nodes) - 1; i >= 0; i-- {
		n := b.g.Nodes[i]
		dy := make([]string, len(n.Outputs))
		reached, wanted := false, false
		for j, o := range n.Outputs {
			if o != "" {
				dy[j] = b.gradOf(o)
				reached = reached || dy[j] != ""
			}
		}
		for _, in := range n.Inputs {
			wanted = wanted || in != "" && b.need[in]
		}
		if !reached || !wanted || carriesNone(n) {
			continue
		}
		r, ok := rules[n.OpType]
		if !ok || n.Domain != "" && n.Domain != "ai.onnx" {
			return fmt.Errorf("%w: node %s: no backward rule for %s", ErrUnsupported, n, onnx.Printable(n.OpType))
		}
		gin, err := r(b, n, dy)
		if err != nil {
			return fmt.Errorf("node %s: %w", n, err)
		}
		for j, g := range gin {
			if g != "" && j < len(n.Inputs) && b.need[n.Inputs[j]] {
				b.grads[n.Inputs[j]] = append(b.grads[n.Inputs[j]], g)
			}
		}
	}
	return nil
}

// gradOf returns the gradient of a value, summing its contributions once.
func (b *builder) gradOf(name string) string {
	if s, ok := b.summed[name]; ok {
		return s
	}
	var s string
	switch parts := b.grads[name]; len(parts) {
	case 0:
	case 1:
		s = parts[0]
	default:
		s = b.sum(parts)
	}
	b.summed[name] = s
	return s
}

// read reports whether a backward node reads v or v is the whole gradient
// of a value, which rules may then have read or passed on.
func (b *builder) read(v string) bool {
	for _, s := range b.summed {
		if s == v {
			return true
		}
	}
	for _, n := range b.nodes {
		if slices.Contains(n.GetInput(), v) {
			return true
		}
	}
	return false
}

// add returns the sum of parts (two or more of one shape): an Add for
// two, which ONNX Runtime's CPU provider shares among its threads where
// it runs a Sum on one (ResNet-50's sixteen residual gradients at batch
// 16: 49 ms a pass as Sums), a Sum for more, one pass over them all.
func (b *builder) add(parts []string) string {
	if len(parts) == 2 {
		return b.op("Add", parts)
	}
	return b.op("Sum", parts)
}

// sum adds gradient contributions: the gradients of Slices that tile an
// axis concatenated (slicetiles.go), those of full shape with one Add or
// Sum (add), then those spread by Expand (GlobalAveragePool's, a
// squeeze-and-excitation block's) as their unexpanded inputs, by a
// broadcasting Add, one pass over the tensor in place of writing and
// reading the expansion.
func (b *builder) sum(parts []string) string {
	if parts = b.concatTiles(parts); len(parts) == 1 {
		return parts[0]
	}
	var full, small, dropped []string
	for _, p := range parts {
		if src, ok := b.spread[p]; ok && !b.read(p) {
			small, dropped = append(small, src), append(dropped, p)
		} else {
			full = append(full, p)
		}
	}
	if len(full) == 0 {
		return b.add(parts)
	}
	s := full[0]
	if len(full) > 1 {
		s = b.add(full)
	}
	for _, src := range small {
		s = b.op("Add", []string{s, src})
	}
	b.nodes = slices.DeleteFunc(b.nodes, func(n *onnx.NodeProto) bool {
		return n.GetOpType() == "Expand" && slices.Contains(dropped, n.GetOutput()[0])
	})
	return s
}

// leafGrad names the gradient of a leaf as an output: an Identity of its
// sum, or zeros of its shape when the loss does not reach it.
func (b *builder) leafGrad(leaf, hint string) string {
	g := b.gradOf(leaf)
	if g == "" {
		zero := &onnx.TensorProto{Dims: []int64{1}, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{0}}
		g = b.op("ConstantOfShape", []string{b.op("Shape", []string{leaf})},
			&onnx.AttributeProto{Name: proto.String("value"), Type: onnx.AttributeProto_TENSOR.Enum(), T: zero})
	}
	if s := b.shapes[leaf]; len(s) == 0 {
		return b.rank1(g, hint)
	}
	out := b.uniqueName(hint)
	b.nodes = append(b.nodes, &onnx.NodeProto{OpType: proto.String("Identity"), Name: proto.String(out),
		Input: []string{g}, Output: []string{out}})
	return out
}

// rank1 names a scalar as an output of shape [1]: ONNX Runtime's Go
// binding cannot hand back rank-0 tensors.
func (b *builder) rank1(v, hint string) string {
	out := b.uniqueName(hint)
	b.nodes = append(b.nodes, &onnx.NodeProto{OpType: proto.String("Reshape"), Name: proto.String(out),
		Input: []string{v, b.int64s(1)}, Output: []string{out}})
	return out
}

// Write builds m's gradient graph and writes it to path atomically. A model
// whose weights are in external data files can only be written into its
// own folder, where the references to those files still hold.
func Write(path string, m *onnx.Model, opt *Options) (*Graph, error) {
	if len(onnx.ExternalTensors(m.Proto)) > 0 {
		if abs, err := filepath.Abs(filepath.Dir(path)); err != nil || !sameDir(abs, m.Dir) {
			return nil, fmt.Errorf("%w: the model keeps its weights in external data files; write the gradient graph into the model's folder %s", ErrUnsupported, m.Dir)
		}
	}
	g, err := Build(m, opt)
	if err != nil {
		return nil, err
	}
	return g, g.Model.Save(path)
}

func sameDir(abs, dir string) bool {
	d, err := filepath.Abs(dir)
	return err == nil && d == abs
}
