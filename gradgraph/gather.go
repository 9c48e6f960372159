package gradgraph

import (
	"math"

	"github.com/onnxguard/onnxguard/onnx"
)

// Gather: one constant index along a static axis (attention's q, k and v
// out of one projection) gives dy padded with zeros back to x's shape.
// Otherwise the indices Gather picks from a tensor of x's element
// positions say where each element of dy goes; ScatterElements with
// reduction "add" sums those that picked one element twice (that reads
// x's size, keeping x alive).
func init() {
	register("Gather", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		axis, err := n.Int("axis", 0)
		if err != nil {
			return nil, err
		}
		if g, ok := b.gatherOneBack(n, axis, dy[0]); ok {
			return []string{g, ""}, nil
		}
		pos := b.positions(n.Inputs[0])
		picked := b.op("Gather", []string{pos, n.Inputs[1]}, aInt("axis", axis))
		return []string{b.scatterBack(n.Inputs[0], picked, dy[0], true), ""}, nil
	})
}

// positions returns an int64 tensor of x's shape holding 0, 1, 2, … in
// row-major order: run through a data-movement op, it says which element of
// x lands where.
func (b *builder) positions(x string) string {
	r := b.op("Range", []string{b.int64s0(0), b.sizeOf(x, false), b.int64s0(1)})
	return b.reshapeLike(r, x)
}

// scatterBack returns the gradient of x for a data-movement op whose output
// took x's elements at positions picked: dy's elements added into zeros of
// x's size at those positions, reshaped to x.
func (b *builder) scatterBack(x, picked, g string, add bool) string {
	flat := b.int64s(-1)
	zeros := b.op("ConstantOfShape", []string{b.sizeOf(x, true)})
	var attrs []*onnx.AttributeProto
	if add {
		attrs = append(attrs, aStr("reduction", "add"))
	}
	s := b.op("ScatterElements", []string{zeros, b.op("Reshape", []string{picked, flat}), b.op("Reshape", []string{g, flat})}, attrs...)
	return b.reshapeLike(s, x)
}

// gatherOneBack returns dx for a Gather of one constant index along a
// static axis: dy, its axis restored, padded to x's size there.
func (b *builder) gatherOneBack(n *onnx.Node, axis int64, dy string) (string, bool) {
	xs := b.shapes[n.Inputs[0]]
	idx, ok := b.constInts(n.Inputs[1])
	is, known := b.shapes[n.Inputs[1]]
	r := int64(len(xs))
	if axis < 0 {
		axis += r
	}
	if !ok || !known || len(idx) != 1 || len(is) > 1 || axis < 0 || axis >= r || xs[axis] < 0 {
		return "", false
	}
	d, i := int64(xs[axis]), idx[0]
	if i < 0 {
		i += d
	}
	if i < 0 || i >= d {
		return "", false
	}
	if len(is) == 0 {
		dy = b.op("Unsqueeze", []string{dy, b.int64s(axis)})
	}
	pads := make([]int64, 2*r)
	pads[axis], pads[axis+r] = i, d-i-1
	return b.op("Pad", []string{dy, b.int64s(pads...)}), true
}

// sizeOf returns x's element count, a scalar or with rank1 of shape [1].
// Where the forward half takes x's whole Shape (as exporters do to split
// attention's projection into q, k and v) the count is that shape's
// product: a Size node would keep x itself alive into the backward half.
func (b *builder) sizeOf(x string, rank1 bool) string {
	keep := int64(0)
	if rank1 {
		keep = 1
	}
	for _, n := range b.g.Nodes {
		if n.OpType != "Shape" || len(n.Inputs) != 1 || n.Inputs[0] != x || len(n.Outputs) != 1 {
			continue
		}
		start, err1 := n.Int("start", 0)
		end, err2 := n.Int("end", math.MaxInt64)
		if err1 == nil && err2 == nil && start == 0 && end == math.MaxInt64 {
			return b.op("ReduceProd", []string{n.Outputs[0]}, aInt("keepdims", keep))
		}
	}
	size := b.op("Size", []string{x})
	if rank1 {
		return b.op("Reshape", []string{size, b.int64s(1)})
	}
	return size
}
