package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// GlobalMaxPool: dy goes to each plane's first maximum, found by ArgMax
// over the flattened plane and scattered back.
func init() {
	register("GlobalMaxPool", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		xs, err := b.shape(n.Inputs[0])
		if err != nil {
			return nil, err
		}
		flat := b.op("Reshape", []string{n.Inputs[0], b.int64s(0, int64(xs[1]), -1)})
		arg := b.op("ArgMax", []string{flat}, aInt("axis", 2), aInt("keepdims", 1))
		g := b.op("Reshape", []string{dy[0], b.int64s(0, int64(xs[1]), 1)})
		zeros := b.op("ConstantOfShape", []string{b.op("Shape", []string{flat})})
		dx := b.op("ScatterElements", []string{zeros, arg, g}, aInt("axis", 2))
		return []string{b.reshapeLike(dx, n.Inputs[0])}, nil
	})
}
