package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// BatchNormalization in inference, y = (x − mean)·scale/√(var + ε) + B:
// dx = dy·scale/√(var + ε) per channel; dscale = Σ dy·x̂ and dB = Σ dy over
// all but the channel axis. The running statistics get no gradient, as in
// the interpreter.
func init() {
	register("BatchNormalization", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		if t, _ := n.Int("training_mode", 0); t != 0 {
			return nil, unsupported("training_mode=1")
		}
		eps, err := n.Float("epsilon", 1e-5)
		if err != nil {
			return nil, err
		}
		xs, err := b.shape(n.Inputs[0])
		if err != nil {
			return nil, err
		}
		x, scale, mean, variance, g := n.Inputs[0], n.Inputs[1], n.Inputs[3], n.Inputs[4], dy[0]
		perChannel := []int64{int64(xs[1])}
		axes := []int64{0}
		for i := 2; i < len(xs); i++ {
			perChannel = append(perChannel, 1)
			axes = append(axes, int64(i))
		}
		toC := func(v string) string { return b.op("Reshape", []string{v, b.int64s(perChannel...)}) }
		invstd := b.op("Reciprocal", []string{b.op("Sqrt", []string{b.op("Add", []string{variance, b.scalar(eps)})})})
		out := make([]string, len(n.Inputs))
		if b.needs(n, 0) {
			out[0] = b.op("Mul", []string{g, toC(b.op("Mul", []string{scale, invstd}))})
		}
		if b.needs(n, 1) {
			xhat := b.op("Mul", []string{b.op("Sub", []string{x, toC(mean)}), toC(invstd)})
			out[1] = b.op("ReduceSum", []string{b.op("Mul", []string{g, xhat}), b.int64s(axes...)}, aInt("keepdims", 0))
		}
		if b.needs(n, 2) {
			out[2] = b.op("ReduceSum", []string{g, b.int64s(axes...)}, aInt("keepdims", 0))
		}
		return out, nil
	})
}
