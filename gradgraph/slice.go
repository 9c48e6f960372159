package gradgraph

import (
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
)

// Slice (starts, ends, axes and steps as inputs, opset 10 on): with unit
// steps along static sliced axes, dx is dy padded with zeros back to x's
// shape, by pads that are constants where the bounds are and are worked
// out in the graph where the graph computes the bounds (as PyTorch's
// exports of attention cut a fused QKV projection in thirds from its
// shape). Otherwise the same Slice of x's element positions says where
// dy's elements go, whatever the steps (that reads x's size, keeping x
// alive, and scatters element by element).
func init() {
	register("Slice", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		out := make([]string, len(n.Inputs))
		if pads, ok := b.slicePads(n); ok {
			out[0] = b.op("Pad", []string{dy[0], b.int64s(pads...)})
			b.recordTile(n, out[0], dy[0]) // slicetiles.go
			return out, nil
		}
		if pads, ok := b.slicePadsAtRunTime(n); ok { // slicepads.go
			out[0] = b.op("Pad", []string{dy[0], pads})
			b.recordTile(n, out[0], dy[0])
			return out, nil
		}
		ins := append([]string{b.positions(n.Inputs[0])}, n.Inputs[1:]...)
		picked := b.op("Slice", ins)
		out[0] = b.scatterBack(n.Inputs[0], picked, dy[0], false)
		return out, nil
	})
}

// unitSliceAxes returns the axes of x that Slice n cuts, resolved against
// x's rank, where it cuts k of them (k < 0: as many as the axes input, or
// the starts input's static length, says) with unit steps, every axis
// constant, in range, named once and static in x; ok is false for any
// other Slice.
func (b *builder) unitSliceAxes(n *onnx.Node, k int) ([]int, bool) {
	xs := b.shapes[n.Inputs[0]]
	if len(xs) == 0 || len(n.Inputs) < 3 {
		return nil, false
	}
	var axes []int64
	if len(n.Inputs) > 3 && n.Inputs[3] != "" {
		var ok bool
		if axes, ok = b.constInts(n.Inputs[3]); !ok {
			return nil, false
		}
	} else {
		if ss := b.shapes[n.Inputs[1]]; k < 0 && len(ss) == 1 {
			k = ss[0]
		}
		for i := range max(k, 0) {
			axes = append(axes, int64(i))
		}
	}
	if len(axes) == 0 || k >= 0 && len(axes) != k {
		return nil, false
	}
	if len(n.Inputs) > 4 && n.Inputs[4] != "" {
		steps, ok := b.constInts(n.Inputs[4])
		if !ok || len(steps) != len(axes) {
			return nil, false
		}
		for _, s := range steps {
			if s != 1 {
				return nil, false
			}
		}
	}
	r := len(xs)
	out := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || int(a) >= r || xs[a] < 0 || slices.Contains(out[:i], int(a)) {
			return nil, false
		}
		out[i] = int(a)
	}
	return out, true
}

// slicePads returns the Pad pads (begins, then ends) that undo n, a Slice
// with constant bounds and unit steps along static axes; ok is false for
// any other.
func (b *builder) slicePads(n *onnx.Node) ([]int64, bool) {
	if len(n.Inputs) < 3 {
		return nil, false
	}
	starts, ok1 := b.constInts(n.Inputs[1])
	ends, ok2 := b.constInts(n.Inputs[2])
	if !ok1 || !ok2 || len(starts) != len(ends) {
		return nil, false
	}
	axes, ok := b.unitSliceAxes(n, len(starts))
	if !ok {
		return nil, false
	}
	xs := b.shapes[n.Inputs[0]]
	r := len(xs)
	pads := make([]int64, 2*r)
	for i, a := range axes {
		d := int64(xs[a])
		s, e := clampIndex(starts[i], d), clampIndex(ends[i], d)
		if e < s {
			return nil, false
		}
		pads[a], pads[a+r] = s, d-e
	}
	return pads, true
}

// clampIndex resolves a Slice bound with unit step: negative counts from
// the end, and the result is clamped to [0, d].
func clampIndex(v, d int64) int64 {
	if v < 0 {
		v += d
	}
	return min(max(v, 0), d)
}
