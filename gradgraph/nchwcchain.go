package gradgraph

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// Blocked chains of the forward pass. ONNX Runtime's optimiser moves a
// model's forward Convs onto the blocked NCHWc kernels when their weights
// are constants, and keeps what flows between them (Relu, a residual Add)
// in the blocked layout, fusing the Add and the Relu into the Conv that
// feeds them. A training graph's weights are inputs, so it does none of
// this there, and a blocked form site by site (nchwc.go) pays two reorders
// for every Conv: a 1×1 Conv is not worth them. A chain is that
// optimiser's work done in the blocked form for the Convs whose weights
// are fed: every dense or depthwise Conv that fits the block, and every
// Relu or same-shape Add over their outputs, runs blocked; a value the
// rest of the graph reads (the backward pass reads the Relus' outputs, the
// masks and the weight gradients' inputs) is reordered back once, where it
// is written; a Conv whose output only an Add reads, and that Add's output
// only a Relu, is one blocked Conv with the Add's other input as its Sum
// and the Relu as its activation. A 1×1 Conv whose output no chain reads,
// or that narrows an input no chain writes, stays on the plain path.
//
// ResNet-50's training graph at batch 16 (ONNX Runtime's profile of one
// pass): its 36 forward 1×1 Convs took 374 ms against 521 on the plain
// path (ONNX Runtime's own forward, its weights constants: 337); the
// reorders back added 51 ms, the 1×1 weights' reorders 12. The paper step
// on the graph (BenchmarkAutoPaperStep, twelve runs alternated with the
// code before, which had neither the chains nor convweight.go's operand
// order): 0.117 against 0.110 of ONNX Runtime's forward, on average.

// chainConv is a forward Conv n that a chain can take (and that a site
// takes alone where its kernel is wider than 1×1): 2-D, dense or
// depthwise.
type chainConv struct {
	n *onnx.NodeProto
	blockedConv
}

// chainConvOf records the forward Conv n (its inputs x, w and an optional
// bias) with weights of shape ws over win, where it is 2-D and dense or
// depthwise.
func chainConvOf(n *onnx.NodeProto, ws []int, group int64, win *window) (chainConv, bool) {
	if len(ws) != 4 || slices.Min(ws) < 1 || !(group == 1 || ws[1] == 1 && int64(ws[0]) == group) {
		return chainConv{}, false
	}
	in := n.GetInput()
	c := chainConv{n: n, blockedConv: blockedConv{x: in[0], w: in[1], y: n.GetOutput()[0], co: int64(ws[0]), ci: int64(ws[1]),
		group: group, kh: int64(ws[2]), kw: int64(ws[3]), win: win}}
	if len(in) > 2 {
		c.bias = in[2]
	}
	return c, true
}

// alone says whether c's blocked form pays off outside a chain, as a site
// of its own: a depthwise Conv, or a dense one with a kernel wider than
// 1×1 (a 1×1 Conv is a product per pixel, which the plain path runs as
// fast as the blocked one runs it with its two reorders: 12.6 against
// 14.1 ms at 56×56, 256 to 64 channels).
func (c *chainConv) alone() bool { return c.group > 1 || c.kh*c.kw > 1 }

// fusion is a chain's Conv written with what follows it: sum, the other
// input of the Add it feeds ("" for none), and a Relu after.
type fusion struct {
	c    *chainConv
	sum  string
	relu bool
}

// chains is the plan of one blocked form's chains.
type chains struct {
	member  map[*onnx.NodeProto]bool
	conv    map[*onnx.NodeProto]*chainConv
	written map[string]bool // the values members write
	// fused maps the last node of a fused Conv to its fusion; skip holds
	// the nodes before it, which the fused Conv writes.
	fused map[*onnx.NodeProto]fusion
	skip  map[*onnx.NodeProto]bool
	// back are the values read outside the chains (or graph outputs):
	// reordered back to their plain layout where written.
	back map[string]bool
	// The blocked names, as emitted: of member outputs, and of the
	// reordered inputs of Convs whose input no member writes; and the
	// channels of member outputs.
	blocked  map[string]string
	channels map[string]int64
}

// planChains returns the chains of the portable graph nodes (with its
// outputs) at block, for the Convs whose weights ONNX Runtime does not
// fold; nil where there are none. A graph with subgraphs has none: their
// bodies may read outer values that this plan cannot see.
func (g *Graph) planChains(nodes []*onnx.NodeProto, outputs map[string]bool, folds map[string]bool, block int64) *chains {
	candidates := map[*onnx.NodeProto]*chainConv{}
	for i := range g.convs {
		if c := &g.convs[i]; c.fits(block) && !folds[c.w] {
			candidates[c.n] = c
		}
	}
	readers := map[string][]*onnx.NodeProto{}
	for _, n := range nodes {
		for _, a := range n.GetAttribute() {
			if a.GetG() != nil || len(a.GetGraphs()) > 0 {
				return nil
			}
		}
		for _, in := range n.GetInput() {
			readers[in] = append(readers[in], n)
		}
	}
	excluded := map[*onnx.NodeProto]bool{}
	for {
		ch := g.members(nodes, candidates, excluded)
		if len(ch.conv) == 0 {
			return nil
		}
		// A 1×1 Conv is a product per pixel, as fast on the plain path as
		// blocked with the reorders it takes alone: one that no member
		// reads stays plain, as does one whose input would be reordered
		// for it and is wider than its output (MobileNets' and
		// EfficientNet's projections, from the expanded channels).
		pruned := false
		for n, c := range ch.conv {
			read := slices.ContainsFunc(readers[c.y], func(r *onnx.NodeProto) bool { return ch.member[r] })
			if c.kh*c.kw == 1 && (!read || !ch.written[c.x] && c.ci > c.co) {
				excluded[n], pruned = true, true
			}
		}
		if !pruned {
			ch.fuse(nodes, readers, outputs)
			for v := range ch.written {
				if outputs[v] || slices.ContainsFunc(readers[v], func(r *onnx.NodeProto) bool { return !ch.member[r] }) {
					ch.back[v] = true
				}
			}
			return ch
		}
	}
}

// members returns the chains' members among the forward nodes: the
// candidate Convs not excluded, and the Relus and same-shape Adds over
// values members write.
func (g *Graph) members(nodes []*onnx.NodeProto, candidates map[*onnx.NodeProto]*chainConv, excluded map[*onnx.NodeProto]bool) *chains {
	ch := &chains{member: map[*onnx.NodeProto]bool{}, conv: map[*onnx.NodeProto]*chainConv{}, written: map[string]bool{},
		fused: map[*onnx.NodeProto]fusion{}, skip: map[*onnx.NodeProto]bool{}, back: map[string]bool{}, blocked: map[string]string{},
		channels: map[string]int64{}}
	for _, n := range nodes[:g.forwardNodes] {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			continue
		}
		in := n.GetInput()
		switch c := candidates[n]; {
		case c != nil && !excluded[n]:
			ch.conv[n] = c
		case n.GetOpType() == "Relu" && len(in) == 1 && ch.written[in[0]]:
		case n.GetOpType() == "Add" && len(in) == 2 && ch.written[in[0]] && ch.written[in[1]] &&
			len(g.shapes[in[0]]) == 4 && slices.Equal(g.shapes[in[0]], g.shapes[in[1]]):
		default:
			continue
		}
		ch.member[n] = true
		ch.written[n.GetOutput()[0]] = true
	}
	return ch
}

// fuse plans the fused Convs: a Conv whose output only an Add reads takes
// that Add's other input as its Sum, and a Relu reading the result alone
// as its activation; a Conv that only a Relu reads takes it as its
// activation.
func (ch *chains) fuse(nodes []*onnx.NodeProto, readers map[string][]*onnx.NodeProto, outputs map[string]bool) {
	// only returns the member that alone reads v, of type op, if any.
	only := func(v, op string) *onnx.NodeProto {
		if r := readers[v]; len(r) == 1 && !outputs[v] && ch.member[r[0]] && r[0].GetOpType() == op {
			return r[0]
		}
		return nil
	}
	producer := map[string]*chainConv{}
	for _, c := range ch.conv {
		producer[c.y] = c
	}
	for _, n := range nodes {
		if !ch.member[n] || n.GetOpType() != "Add" {
			continue
		}
		in := n.GetInput()
		for i, v := range in {
			c := producer[v]
			if c == nil || ch.skip[c.n] || only(v, "Add") != n {
				continue
			}
			f, last := fusion{c: c, sum: in[1-i]}, n
			if r := only(n.GetOutput()[0], "Relu"); r != nil {
				f.relu, last = true, r
				ch.skip[n] = true
			}
			ch.skip[c.n] = true
			ch.fused[last] = f
			break
		}
	}
	for _, c := range ch.conv {
		if r := only(c.y, "Relu"); r != nil && !ch.skip[c.n] {
			ch.skip[c.n] = true
			ch.fused[r] = fusion{c: c, relu: true}
		}
	}
}

// emit appends member n's blocked form, unless a later fused Conv writes
// it, and the reorder back of what it writes where the graph reads that.
// A member reading a value no member has written yet is an error: the
// plan's order is broken, and the form would compute something else.
func (ch *chains) emit(l *lowering, n *onnx.NodeProto, block int64) error {
	if ch.skip[n] {
		return nil
	}
	out, y := n.GetOutput()[0], l.fresh("chain")
	var err error
	switch f, fused := ch.fused[n]; {
	case fused:
		err = ch.conv2d(l, y, f.c, f.sum, f.relu, block)
		ch.channels[out] = f.c.co
	case ch.conv[n] != nil:
		err = ch.conv2d(l, y, ch.conv[n], "", false, block)
		ch.channels[out] = ch.conv[n].co
	default: // Relu or Add, elementwise in either layout
		ins := make([]string, len(n.GetInput()))
		for i, v := range n.GetInput() {
			if ins[i], err = ch.read(v, n); err != nil {
				return err
			}
		}
		l.node(n.GetOpType(), "", y, ins)
		ch.channels[out] = ch.channels[n.GetInput()[0]]
	}
	if err != nil {
		return err
	}
	ch.blocked[out] = y
	if ch.back[out] {
		l.node("ReorderOutput", ort.NCHWcDomain, out, []string{y}, aInt("channels", ch.channels[out]))
	}
	return nil
}

// read returns the blocked name of v, which member n reads and a member
// must have written before it.
func (ch *chains) read(v string, n *onnx.NodeProto) (string, error) {
	if b, ok := ch.blocked[v]; ok && ch.written[v] {
		return b, nil
	}
	return "", fmt.Errorf("gradgraph: blocked chains: %s %q reads %q before a chain writes it", n.GetOpType(), n.GetName(), v)
}

// conv2d appends the blocked Conv c writing y: over its input as a member
// wrote it, or reordered once for every Conv reading it (as it is, where
// it has fewer channels than a block), with sum added and a Relu after
// where asked.
func (ch *chains) conv2d(l *lowering, y string, c *chainConv, sum string, relu bool, block int64) error {
	var in string
	switch b, ok := ch.blocked[c.x]; {
	case ch.written[c.x]:
		var err error
		if in, err = ch.read(c.x, c.n); err != nil {
			return err
		}
	case ok:
		in = b
	case c.blockedIn(block):
		in = l.node("ReorderInput", ort.NCHWcDomain, "", []string{c.x})
	default:
		in = c.x
	}
	ch.blocked[c.x] = in
	if sum != "" {
		var err error
		if sum, err = ch.read(sum, c.n); err != nil {
			return err
		}
	}
	activation := ""
	if relu {
		activation = "Relu"
	}
	l.conv(y, in, &c.blockedConv, sum, activation, block)
	return nil
}
