package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Gather: the indices Gather picks from a tensor of x's element positions
// say where each element of dy goes; ScatterElements with reduction "add"
// sums those that picked one element twice.
func init() {
	register("Gather", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		axis, err := n.Int("axis", 0)
		if err != nil {
			return nil, err
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
	size := b.op("Size", []string{x})
	r := b.op("Range", []string{b.int64s0(0), size, b.int64s0(1)})
	return b.reshapeLike(r, x)
}

// scatterBack returns the gradient of x for a data-movement op whose output
// took x's elements at positions picked: dy's elements added into zeros of
// x's size at those positions, reshaped to x.
func (b *builder) scatterBack(x, picked, g string, add bool) string {
	flat := b.int64s(-1)
	zeros := b.op("ConstantOfShape", []string{b.op("Reshape", []string{b.op("Size", []string{x}), b.int64s(1)})})
	var attrs []*onnx.AttributeProto
	if add {
		attrs = append(attrs, aStr("reduction", "add"))
	}
	s := b.op("ScatterElements", []string{zeros, b.op("Reshape", []string{picked, flat}), b.op("Reshape", []string{g, flat})}, attrs...)
	return b.reshapeLike(s, x)
}
