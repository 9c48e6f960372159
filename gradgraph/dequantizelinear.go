package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// DequantizeLinear, y = (x − zero)·scale: the gradient passes straight
// through the integers as dy·scale, as in the interpreter, so that a
// quantize-dequantize pair passes it unchanged where nothing was clipped.
// Scale and zero point get none.
func init() {
	register("DequantizeLinear", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		out := make([]string, len(n.Inputs))
		if !b.needs(n, 0) {
			return out, nil
		}
		scale, _, err := b.quantScale(n)
		if err != nil {
			return nil, err
		}
		out[0] = b.op("Mul", []string{dy[0], scale})
		return out, nil
	})
}

// quantScale returns the scale of a QuantizeLinear or DequantizeLinear node
// shaped to broadcast over its first input: as it is when it holds one
// value, else reshaped along the node's axis; and that reshape's shape
// (nil for none), which the zero point takes too.
func (b *builder) quantScale(n *onnx.Node) (string, []int64, error) {
	xs, err := b.shape(n.Inputs[0])
	if err != nil {
		return "", nil, err
	}
	ss, err := b.shape(n.Inputs[1])
	if err != nil {
		return "", nil, err
	}
	if len(ss) == 0 || len(ss) == 1 && ss[0] == 1 {
		return n.Inputs[1], nil, nil
	}
	axis, err := n.Int("axis", 1)
	if err != nil {
		return "", nil, err
	}
	if axis < 0 {
		axis += int64(len(xs))
	}
	dims := make([]int64, len(xs)-int(axis))
	for i := range dims {
		dims[i] = 1
	}
	dims[0] = -1
	return b.op("Reshape", []string{n.Inputs[1], b.int64s(dims...)}), dims, nil
}
