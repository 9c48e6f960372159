package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// InstanceNormalization normalises each sample's channel over its spatial
// axes, then scales and shifts per channel: LayerNormalization's backward
// (normBack) over those axes; dscale = Σ dy·x̂ and dB = Σ dy over all but
// the channel axis.
func init() {
	register("InstanceNormalization", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		eps, err := n.Float("epsilon", 1e-5)
		if err != nil {
			return nil, err
		}
		x, g := n.Inputs[0], dy[0]
		xs, err := b.shape(x)
		if err != nil {
			return nil, err
		}
		perChannel := []int64{int64(xs[1])}
		var axes []int64
		count := 1
		for i := 2; i < len(xs); i++ {
			if xs[i] < 0 {
				return nil, unsupported("dynamic spatial shape %v", xs)
			}
			perChannel, axes, count = append(perChannel, 1), append(axes, int64(i)), count*xs[i]
		}
		scale := b.op("Reshape", []string{n.Inputs[1], b.int64s(perChannel...)})
		dx, xhat := b.normBack(x, g, scale, axes, count, eps, b.needs(n, 0))
		out := []string{dx, "", ""}
		others := append([]int64{0}, axes...)
		if b.needs(n, 1) {
			out[1] = b.op("ReduceSum", []string{b.op("Mul", []string{g, xhat}), b.int64s(others...)}, aInt("keepdims", 0))
		}
		if b.needs(n, 2) {
			out[2] = b.op("ReduceSum", []string{g, b.int64s(others...)}, aInt("keepdims", 0))
		}
		return out, nil
	})
}
