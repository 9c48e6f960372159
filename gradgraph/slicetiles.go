package gradgraph

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
)

// Slices that cut one tensor into consecutive pieces along one axis
// (attention's q, k and v out of one projection) have, each, its gradient
// padded back to the whole tensor, and the pieces' sum then reads and
// writes the whole tensor once more per piece. Where the pieces tile the
// axis, their gradients concatenated are that sum, in one pass.

// tile is a single-axis Slice with unit steps whose gradient was padded
// back: dy, the piece's gradient, and its bounds as keys, "#v" for a
// constant bound (resolved) and the bound's value name for one computed at
// run time.
type tile struct {
	dy, x      string
	axis       int
	start, end string
	length     int
}

// recordTile notes pad, the padded gradient of Slice n, as a tile where n
// cuts one static axis with unit steps (the paths that pad back check the
// steps) and its piece's length is static.
func (b *builder) recordTile(n *onnx.Node, pad, dy string) {
	xs, ys := b.shapes[n.Inputs[0]], b.shapes[n.Outputs[0]]
	axes, ok := b.unitSliceAxes(n, 1)
	if !ok || len(ys) != len(xs) {
		return
	}
	a := axes[0]
	// An empty piece is no tile: its end may lie before its start, and
	// the next piece would then be taken to start back there.
	if ys[a] <= 0 {
		return
	}
	key := func(bound string) string {
		if v, ok := b.constInts(bound); ok && len(v) == 1 {
			return fmt.Sprintf("#%d", clampIndex(v[0], int64(xs[a])))
		}
		return bound
	}
	if b.tiles == nil {
		b.tiles = map[string]tile{}
	}
	b.tiles[pad] = tile{dy: dy, x: n.Inputs[0], axis: a, start: key(n.Inputs[1]), end: key(n.Inputs[2]), length: ys[a]}
}

// concatTiles replaces, among gradient contributions, the padded pieces
// of each tensor that tile one of its axes from 0 to its end by the
// concatenation of the pieces' gradients, and drops the Pads.
func (b *builder) concatTiles(parts []string) []string {
	// Every part is a gradient of the same value: pieces group by axis, in
	// the order the parts first name each axis, so that the graph written
	// is the same every build.
	var axes []int
	groups := map[int][]string{}
	for _, p := range parts {
		if t, ok := b.tiles[p]; ok && !b.read(p) {
			if _, seen := groups[t.axis]; !seen {
				axes = append(axes, t.axis)
			}
			groups[t.axis] = append(groups[t.axis], p)
		}
	}
	var dropped []string
	for _, a := range axes {
		pads := groups[a]
		order, ok := b.chain(pads)
		if !ok {
			continue
		}
		dys := make([]string, len(order))
		for i, p := range order {
			dys[i] = b.tiles[p].dy
		}
		cat := b.op("Concat", dys, aInt("axis", int64(b.tiles[order[0]].axis)))
		parts = slices.DeleteFunc(parts, func(p string) bool { return slices.Contains(pads, p) })
		parts = append(parts, cat)
		dropped = append(dropped, pads...)
	}
	if len(dropped) == 0 {
		return parts
	}
	var padsIn []string
	b.nodes = slices.DeleteFunc(b.nodes, func(n *onnx.NodeProto) bool {
		drop := n.GetOpType() == "Pad" && slices.Contains(dropped, n.GetOutput()[0])
		if drop {
			padsIn = append(padsIn, n.GetInput()[1])
		}
		return drop
	})
	b.dropUnread(padsIn)
	return parts
}

// dropUnread removes the backward nodes that wrote values no node reads
// any more, from those named on up through their inputs: the bounds
// arithmetic of dropped Pads.
func (b *builder) dropUnread(values []string) {
	for len(values) > 0 {
		v := values[len(values)-1]
		values = values[:len(values)-1]
		if b.read(v) {
			continue
		}
		i := slices.IndexFunc(b.nodes, func(n *onnx.NodeProto) bool { return slices.Contains(n.GetOutput(), v) })
		if i < 0 || len(b.nodes[i].GetOutput()) != 1 {
			continue
		}
		values = append(values, b.nodes[i].GetInput()...)
		b.nodes = slices.Delete(b.nodes, i, i+1)
	}
}

// chain orders pads, tiles of one tensor's axis, from the one that starts
// at 0, each next starting where the last ended; ok is false unless they
// all join and their lengths add up to the axis.
func (b *builder) chain(pads []string) ([]string, bool) {
	if len(pads) < 2 {
		return nil, false
	}
	first := b.tiles[pads[0]]
	total, at := 0, "#0"
	var order []string
	for range pads {
		i := slices.IndexFunc(pads, func(p string) bool { return b.tiles[p].start == at && !slices.Contains(order, p) })
		if i < 0 {
			return nil, false
		}
		t := b.tiles[pads[i]]
		order, total, at = append(order, pads[i]), total+t.length, t.end
	}
	return order, total == b.shapes[first.x][first.axis]
}
