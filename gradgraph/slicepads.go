package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// slicePadsAtRunTime returns the Pad pads that undo n, a Slice with unit
// steps along constant, static axes whose bounds are computed at run time
// (attention's q, k and v cut out of one projection at dim/3·i, which
// PyTorch exports as Shape, Gather, Div, Mul): the bounds resolved as Slice
// does, by a few nodes on one int64 per axis. Padding dy back costs one
// pass over x's size, where positions and ScatterElements cost several
// over int64 tensors of x's size. ok is false for any other Slice.
func (b *builder) slicePadsAtRunTime(n *onnx.Node) (string, bool) {
	axes, ok := b.unitSliceAxes(n, -1)
	if !ok {
		return "", false
	}
	xs := b.shapes[n.Inputs[0]]
	r := len(xs)
	at := map[int]int{} // each sliced axis → its index in axes
	dims := make([]int64, len(axes))
	for i, a := range axes {
		at[a], dims[i] = i, int64(xs[a])
	}
	d := b.int64s(dims...)
	zero := b.int64s0(0)
	// clamp resolves a bound as Slice does for unit steps: negative ones
	// count from the end, and the result lies in [0, d].
	clamp := func(v string) string {
		v = b.op("Cast", []string{v}, aInt("to", int64(onnx.TensorProto_INT64)))
		v = b.op("Where", []string{b.op("Less", []string{v, zero}), b.op("Add", []string{v, d}), v})
		return b.op("Min", []string{b.op("Max", []string{v, zero}), d})
	}
	s := clamp(n.Inputs[1])
	e := b.op("Max", []string{clamp(n.Inputs[2]), s})
	after := b.op("Sub", []string{d, e})
	var pieces []string
	for p := range 2 * r {
		i, sliced := at[p%r]
		switch {
		case !sliced:
			pieces = append(pieces, b.int64s(0))
		case len(axes) == 1 && p < r:
			pieces = append(pieces, s)
		case len(axes) == 1:
			pieces = append(pieces, after)
		case p < r:
			pieces = append(pieces, b.op("Gather", []string{s, b.int64s(int64(i))}))
		default:
			pieces = append(pieces, b.op("Gather", []string{after, b.int64s(int64(i))}))
		}
	}
	return b.op("Concat", pieces, aInt("axis", 0)), true
}
