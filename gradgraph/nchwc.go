package gradgraph

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// Convolutions in a blocked form, for ONNX Runtime's CPU provider. A
// depthwise Conv (group = channels, one input channel per
// group) runs there, as a plain ONNX Conv, on its generic grouped path:
// an unfold and a product per channel. ConvNeXt-T's 7×7 depthwise layers
// took 1.85 s of a 6.08 s training pass (ONNX Runtime's profile, batch
// 16): forward 0.43, input gradient 0.45, and weight gradient 0.97, a
// grouped Conv whose kernel is dy's whole plane, at 3.5 GFLOP/s. Its
// optimiser moves such Convs onto MLAS's blocked NCHWc kernels only where
// the weights are constants, which a training graph's fed weights are
// not, and never the weight gradient's Conv, whose "weights" are dy.
//
// The blocked form calls those kernels directly, through the operators of
// ort.NCHWcDomain, the layout's reorders written as graph nodes:
//
//   - forward and input gradient: ReorderInput, the blocked Conv with the
//     weights reordered to [C/B, 1, kh, kw, B] by a Reshape and a
//     Transpose (the input gradient's flipped on the way by a Gather,
//     blockedWeights), and ReorderOutput. One layer at 56×56, 96 channels,
//     batch 16: 33-35 against 6.7-7.2 ms.
//   - weight gradient: a Scan over the samples whose body is the blocked
//     Conv of one sample's x by its dy as the kernel ([C, 1, oh, ow],
//     reordered the same way); the Scan's per-sample results are summed.
//     The same layer: 70-124 against 13 ms. Stacking the samples along
//     the rows instead, in one Conv, is as slow as the grouped Conv: each
//     output tap then streams a kernel the size of the whole batch's dy
//     through the cache.
//   - dense Convs with kernels larger than 1×1, forward and input
//     gradient, as the first item (weights [co/B, ci/B, kh, kw, Bi, Bo],
//     or [co/B, ci, kh, kw, B] over an input of fewer channels than a
//     block, which is not reordered). ResNet-50's 3×3 layers at batch 16:
//     19-20 against 23-26 ms a layer with the reorders; its paper step on
//     the graph (BenchmarkAutoPaperStep, the two forms alternated twice)
//     0.1065-0.1088 against 0.1012-0.1017 of ONNX Runtime's forward.
//     1×1 Convs stay: their plain path is as fast as the blocked one with
//     its reorders, but in a chain of the forward pass (nchwcchain.go).
//
// The form depends on the block size B of the library's kernels (16 on
// AVX-512, 8 on AVX2; ort.NCHWcBlock reads it from the library), and the
// operators exist on the CPU provider only, so Build writes the portable
// graph and records where the blocked form goes (sites); Blocked writes
// that form for one block size, which ort.OpenGraphForms asks for when a
// session opens on such a CPU.

// site is a part of the portable graph that has a blocked form.
type site struct {
	// nodes are the portable form's, in graph order; the blocked form
	// takes the last one's place and writes its output.
	nodes []*onnx.NodeProto
	// fits says whether the blocked form runs at a block size.
	fits func(block int64) bool
	emit func(l *lowering, block int64)
}

// lowering collects a blocked form's nodes and constants.
type lowering struct {
	used map[string]bool // the portable graph's names, read only
	// foldable are the portable graph's values that ONNX Runtime folds
	// into constants when a session opens (see foldable), read only:
	// weights whose reorders it folds too, where those are standard
	// operators.
	foldable map[string]bool
	taken    map[string]bool // the blocked form's
	nodes    []*onnx.NodeProto
	inits    []*onnx.TensorProto
	n        int
}

func (l *lowering) fresh(hint string) string {
	for {
		l.n++
		name := "nchwc/" + hint + "/" + strconv.Itoa(l.n)
		if !l.used[name] && !l.taken[name] {
			l.taken[name] = true
			return name
		}
	}
}

// node appends a node writing out (a fresh name when "") and returns out.
func (l *lowering) node(opType, domain, out string, ins []string, attrs ...*onnx.AttributeProto) string {
	if out == "" {
		out = l.fresh(opType)
	}
	n := &onnx.NodeProto{OpType: proto.String(opType), Name: proto.String(l.fresh("node")), Input: ins,
		Output: []string{out}, Attribute: attrs}
	if domain != "" {
		n.Domain = proto.String(domain)
	}
	l.nodes = append(l.nodes, n)
	return out
}

func (l *lowering) int64s(vals ...int64) string {
	name := l.fresh("const")
	l.inits = append(l.inits, int64Tensor(name, []int64{int64(len(vals))}, vals))
	return name
}

// blockedWeights returns the weights w of a Conv, [co, ci, kh, kw] (ci
// per group), reordered as the blocked kernels read them, their declared
// shape kept: a depthwise Conv's and one over an unblocked input (fewer
// channels than a block) as [co/B, ci, kh, kw, B], a dense one over a
// blocked input as [co/B, ci/B, kh, kw, Bi, Bo]. With back, w holds
// instead the weights of the forward Conv whose input gradient this Conv
// is, [ci, co, kh, kw] (a depthwise one's [co, 1, kh, kw]): the channel
// axes are exchanged and the taps flipped on the way.
//
// ReorderInput, which blocks an activation's channels, blocks the input
// channels of fed dense weights: one pass near memory speed, then a
// transpose that moves whole blocks. A single six-axis Transpose, whose
// innermost output axis strides the whole tensor, took 19.3 against
// 8.4 ms on one of ResNet-50's 512-channel 3×3 layers; the flip as a Slice
// with step −1, 7.8 ms more, is a Gather of whole rows of taps here.
// ONNX Runtime does not fold ReorderInput (nor any operator outside the
// standard domains), so weights it folds (foldable: an FGSM graph's) take
// standard operators alone, folded with them when the session opens.
func (l *lowering) blockedWeights(w string, co, ci, kh, kw, block int64, back bool) string {
	k := kh * kw
	// dense: a dense Conv over a blocked input (a depthwise one reads one
	// channel a group, an unblocked input fewer than a block).
	dense, folds := ci >= block, l.foldable[w]
	var r string
	switch {
	case dense && folds && !back:
		// [co/B, Bo, ci/B, Bi, k] → [co/B, ci/B, k, Bi, Bo].
		r = l.node("Reshape", "", "", []string{w, l.int64s(co/block, block, ci/block, block, k)})
		r = l.node("Transpose", "", "", []string{r}, aInts("perm", 0, 2, 4, 3, 1))
	case dense && folds:
		// [ci/B, Bi, co/B, Bo, k], taps reversed, → [co/B, ci/B, k, Bi, Bo].
		r = l.node("Reshape", "", "", []string{w, l.int64s(ci/block, block, co/block, block, k)})
		r = l.node("Gather", "", "", []string{r, l.reversed(k)}, aInt("axis", 4))
		r = l.node("Transpose", "", "", []string{r}, aInts("perm", 2, 0, 4, 1, 3))
	case dense && !back:
		// [co, ci/B, k, Bi] = [co/B, Bo, ci/B·k·Bi] → [co/B, ci/B·k·Bi, Bo].
		r = l.node("ReorderInput", ort.NCHWcDomain, "", []string{w})
		r = l.node("Reshape", "", "", []string{r, l.int64s(co/block, block, ci*k)})
		r = l.node("Transpose", "", "", []string{r}, aInts("perm", 0, 2, 1))
	case dense:
		// [ci, co/B, k, Bo] = [ci/B, Bi, co/B, k, Bo], taps reversed,
		// → [co/B, ci/B, k, Bi, Bo].
		r = l.node("ReorderInput", ort.NCHWcDomain, "", []string{w})
		r = l.node("Reshape", "", "", []string{r, l.int64s(ci/block, block, co/block, k, block)})
		r = l.node("Gather", "", "", []string{r, l.reversed(k)}, aInt("axis", 3))
		r = l.node("Transpose", "", "", []string{r}, aInts("perm", 2, 0, 3, 1, 4))
	case !back:
		r = l.node("Reshape", "", "", []string{w, l.int64s(co/block, block, ci*k)})
		r = l.node("Transpose", "", "", []string{r}, aInts("perm", 0, 2, 1))
	default:
		// [ci, co/B, Bo, k] (depthwise: ci 1), taps reversed, → [co/B, ci, k, Bo].
		r = l.node("Reshape", "", "", []string{w, l.int64s(ci, co/block, block, k)})
		r = l.node("Gather", "", "", []string{r, l.reversed(k)}, aInt("axis", 3))
		r = l.node("Transpose", "", "", []string{r}, aInts("perm", 1, 0, 3, 2))
	}
	return l.node("Reshape", "", "", []string{r, l.int64s(co, ci, kh, kw)})
}

// reversed returns the indices k−1, …, 1, 0.
func (l *lowering) reversed(k int64) string {
	vals := make([]int64, k)
	for i := range vals {
		vals[i] = k - 1 - int64(i)
	}
	return l.int64s(vals...)
}

// blockedConv is a Conv the blocked kernels can run: y = Conv(x, w[,
// bias]), w of shape [co, ci, kh, kw] (with back, the weights of the
// forward Conv whose input gradient this is, as blockedWeights reads
// them), over the window's pads, strides and dilations; depthwise (group
// co, ci 1) or dense (group 1).
type blockedConv struct {
	x, w, bias, y         string
	co, ci, group, kh, kw int64
	win                   *window
	back                  bool
}

// fits says whether the blocked kernels run c at block: co a multiple of
// it, and a dense Conv's ci one too or fewer than a block (an unblocked
// input, read as it is).
func (c *blockedConv) fits(block int64) bool {
	return c.co%block == 0 && (c.group > 1 || c.ci%block == 0 || c.ci < block)
}

// blockedIn says whether c reads its input blocked: a depthwise Conv's,
// or a dense one's of a block or more channels.
func (c *blockedConv) blockedIn(block int64) bool { return c.group > 1 || c.ci >= block }

// conv appends the blocked Conv c of in (x as c.blockedIn reads it)
// writing y, with sum (blocked; "" for none) added to it and activation
// ("" for none) applied after.
func (l *lowering) conv(y, in string, c *blockedConv, sum, activation string, block int64) {
	ins := []string{in, l.blockedWeights(c.w, c.co, c.ci, c.kh, c.kw, block, c.back), c.bias, sum}
	for len(ins) > 2 && ins[len(ins)-1] == "" {
		ins = ins[:len(ins)-1]
	}
	attrs := []*onnx.AttributeProto{aInt("group", c.group), aInts("kernel_shape", c.kh, c.kw), aInts("pads", c.win.pads...),
		aInts("strides", c.win.strides...), aInts("dilations", c.win.dilations...)}
	if activation != "" {
		attrs = append(attrs, aStr("activation", activation))
	}
	l.node("Conv", ort.NCHWcDomain, y, ins, attrs...)
}

// site returns the site of nodes, the last of which writes c.y: c's
// blocked form between a reorder of x in and of y back.
func (c blockedConv) site(nodes []*onnx.NodeProto) site {
	return site{nodes: nodes, fits: c.fits, emit: func(l *lowering, block int64) {
		in := c.x
		if c.blockedIn(block) {
			in = l.node("ReorderInput", ort.NCHWcDomain, "", []string{c.x})
		}
		y := l.fresh("Conv")
		l.conv(y, in, &c, "", "", block)
		l.node("ReorderOutput", ort.NCHWcDomain, c.y, []string{y}, aInt("channels", c.co))
	}}
}

// inputGradSite records nodes, convInputGrad's: the input gradient dx of
// a Conv with weights w, [ci, co, kh, kw] (depthwise: [co, 1, kh, kw]), as
// a Conv of dy by those weights flipped, channels exchanged, over win (the
// forward's window's inputGrad). The blocked form flips and reorders w in
// one go (blockedWeights' back).
func inputGradSite(nodes []*onnx.NodeProto, dx, dy, w string, co, ci, group int64, win *window) site {
	c := blockedConv{x: dy, w: w, y: dx, co: co, ci: ci, group: group, kh: win.kernel[0], kw: win.kernel[1], win: win, back: true}
	return c.site(nodes)
}

// depthwiseWeightGradSite records nodes, the portable form of
// dW = Σ_n x[n] ⋆ dy[n] of a stride-1, undilated depthwise Conv of c
// channels over win (spatial in H×W, out OH×OW), writing dw [c, 1, kh, kw].
func depthwiseWeightGradSite(nodes []*onnx.NodeProto, dw, x, dy string, c int64, win *window) site {
	kh, kw := win.kernel[0], win.kernel[1]
	h, w := int64(win.in[0]), int64(win.in[1])
	oh, ow := int64(win.out[0]), int64(win.out[1])
	return site{nodes: nodes, fits: func(block int64) bool { return c%block == 0 }, emit: func(l *lowering, block int64) {
		body := &lowering{used: l.used, foldable: l.foldable, taken: l.taken, n: l.n}
		xn, gn, dn := body.fresh("x"), body.fresh("dy"), body.fresh("dw")
		xb := body.node("ReorderInput", ort.NCHWcDomain, "", []string{body.node("Reshape", "", "", []string{xn, body.int64s(1, c, h, w)})})
		gb := body.blockedWeights(gn, c, 1, oh, ow, block, false)
		// dy as the kernel: x's taps at every offset of the weights' window,
		// the forward's pads around x.
		d := body.node("Conv", ort.NCHWcDomain, "", []string{xb, gb}, aInt("group", c), aInts("kernel_shape", oh, ow),
			aInts("pads", win.pads...))
		d = body.node("ReorderOutput", ort.NCHWcDomain, "", []string{d}, aInt("channels", c))
		body.node("Reshape", "", dn, []string{d, body.int64s(c, 1, kh, kw)})
		l.n = body.n
		graph := &onnx.GraphProto{Name: proto.String(l.fresh("scan")), Node: body.nodes, Initializer: body.inits,
			Input:  []*onnx.ValueInfoProto{valueInfo(xn, onnx.TensorProto_FLOAT, []int64{c, h, w}), valueInfo(gn, onnx.TensorProto_FLOAT, []int64{c, oh, ow})},
			Output: []*onnx.ValueInfoProto{valueInfo(dn, onnx.TensorProto_FLOAT, []int64{c, 1, kh, kw})}}
		scan := &onnx.AttributeProto{Name: proto.String("body"), Type: onnx.AttributeProto_GRAPH.Enum(), G: graph}
		per := l.node("Scan", "", "", []string{x, dy}, scan, aInt("num_scan_inputs", 2))
		l.node("ReduceSum", "", dw, []string{per, l.int64s(0)}, aInt("keepdims", 0))
	}}
}

// Blocked returns the graph with the blocked form in place of every site
// that fits block (channels a multiple of it, or an unblocked input) and
// of the forward chains (nchwcchain.go), and how many parts (sites, and
// chain members, those fused into one Conv each counted) it replaced; with none (or block < 2) it returns g.Model
// itself. The rest (nodes, inputs, weights, value_info) is shared with
// g.Model, which it does not change, so that sessions may ask for it at
// once.
func (g *Graph) Blocked(block int) (*onnx.Model, int, error) {
	if block < 2 {
		return g.Model, 0, nil
	}
	src := g.Model.Proto.GetGraph()
	folds := foldable(src)
	outputs := map[string]bool{}
	for _, o := range src.GetOutput() {
		outputs[o.GetName()] = true
	}
	ch := g.planChains(src.GetNode(), outputs, folds, int64(block))
	replace := map[*onnx.NodeProto]*site{}
	drop := map[*onnx.NodeProto]bool{}
	for i := range g.sites {
		s := &g.sites[i]
		if !s.fits(int64(block)) || ch != nil && slices.ContainsFunc(s.nodes, func(n *onnx.NodeProto) bool { return ch.member[n] }) {
			continue
		}
		replace[s.nodes[len(s.nodes)-1]] = s
		for _, n := range s.nodes {
			drop[n] = true
		}
	}
	parts := len(replace)
	if ch != nil {
		parts += len(ch.member)
	}
	if parts == 0 {
		return g.Model, 0, nil
	}
	l := &lowering{used: g.used, foldable: folds, taken: map[string]bool{}}
	var nodes []*onnx.NodeProto
	found := 0
	for _, n := range src.GetNode() {
		if ch != nil && ch.member[n] {
			l.nodes = l.nodes[:0]
			if err := ch.emit(l, n, int64(block)); err != nil {
				return nil, 0, err
			}
			nodes = append(nodes, l.nodes...)
		} else if s := replace[n]; s != nil {
			l.nodes = l.nodes[:0]
			s.emit(l, int64(block))
			nodes = append(nodes, l.nodes...)
			found++
		} else if !drop[n] {
			nodes = append(nodes, n)
		}
	}
	if found != len(replace) {
		return nil, 0, fmt.Errorf("gradgraph: %d of %d blocked forms' places are not in the graph", len(replace)-found, len(replace))
	}
	graph := &onnx.GraphProto{Name: src.Name, Node: nodes, Initializer: slices.Concat(src.GetInitializer(), l.inits),
		Input: src.GetInput(), Output: src.GetOutput(), ValueInfo: src.GetValueInfo()}
	opsets := slices.DeleteFunc(slices.Clone(g.Model.Proto.GetOpsetImport()), func(o *onnx.OperatorSetIdProto) bool {
		return o.GetDomain() == ort.NCHWcDomain
	})
	opsets = append(opsets, &onnx.OperatorSetIdProto{Domain: proto.String(ort.NCHWcDomain), Version: proto.Int64(1)})
	mp := &onnx.ModelProto{IrVersion: g.Model.Proto.IrVersion, ProducerName: g.Model.Proto.ProducerName,
		OpsetImport: opsets, Graph: graph, MetadataProps: g.Model.Proto.GetMetadataProps()}
	return &onnx.Model{Proto: mp, Dir: g.Model.Dir}, parts, nil
}

// foldable returns the values of gp that ONNX Runtime's constant folding
// turns into constants when a session opens: initializers that are not
// also graph inputs (a model below IR version 4 lists its initializers as
// inputs, which makes them overridable), Constant nodes' outputs, and the
// outputs of standard operators all of whose inputs are foldable, but for
// DequantizeLinear's (which it keeps, for quantized kernels to fuse), the
// Random operators' and control flow's. It errs towards false: a value it
// misses only takes the reorder computed on every run.
func foldable(gp *onnx.GraphProto) map[string]bool {
	inputs := map[string]bool{}
	for _, vi := range gp.GetInput() {
		inputs[vi.GetName()] = true
	}
	f := map[string]bool{}
	for _, t := range gp.GetInitializer() {
		if !inputs[t.GetName()] {
			f[t.GetName()] = true
		}
	}
	for _, n := range gp.GetNode() {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			continue
		}
		op := n.GetOpType()
		folds := op == "Constant"
		if !folds && op != "DequantizeLinear" && !strings.HasPrefix(op, "Random") {
			for _, in := range n.GetInput() {
				if in == "" {
					continue
				}
				if !f[in] {
					folds = false
					break
				}
				folds = true
			}
			for _, a := range n.GetAttribute() {
				if a.GetG() != nil || len(a.GetGraphs()) > 0 {
					folds = false
				}
			}
		}
		if folds {
			for _, out := range n.GetOutput() {
				f[out] = true
			}
		}
	}
	return f
}
