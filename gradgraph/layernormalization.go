package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// LayerNormalization over the axes from axis on: x̂ from the forward node's
// Mean and InvStdDev outputs (added where the model leaves them out), dx
// from normCompact (normBack, which recomputes the statistics, where they
// are not kept in float); dscale = Σ dy·x̂ and dB = Σ dy, summed to their
// shapes.
func init() {
	register("LayerNormalization", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		for _, d := range dy[1:] {
			if d != "" {
				return nil, unsupported("a gradient reaching the Mean or InvStdDev output")
			}
		}
		axis, err := n.Int("axis", -1)
		if err != nil {
			return nil, err
		}
		eps, err := n.Float("epsilon", 1e-5)
		if err != nil {
			return nil, err
		}
		x, scale, g := n.Inputs[0], n.Inputs[1], dy[0]
		xs, err := b.shape(x)
		if err != nil {
			return nil, err
		}
		if axis < 0 {
			axis += int64(len(xs))
		}
		var axes []int64
		count := 1
		for i := axis; i < int64(len(xs)); i++ {
			if xs[i] < 0 {
				return nil, unsupported("normalising over the batch axis")
			}
			axes, count = append(axes, i), count*xs[i]
		}
		var dx, xhat string
		if stash, err := n.Int("stash_type", 1); err == nil && stash == 1 {
			mean, inv := b.layerNormStats(n)
			xhat = b.op("Mul", []string{b.op("Sub", []string{x, mean}), inv})
			if b.needs(n, 0) {
				dx = b.normCompact(xhat, b.op("Mul", []string{g, scale}), axes, count, "Mul", inv)
			}
		} else {
			dx, xhat = b.normBack(x, g, scale, axes, count, eps, b.needs(n, 0))
		}
		out := make([]string, len(n.Inputs))
		out[0] = dx
		if b.needs(n, 1) {
			if out[1], err = b.sumTo(b.op("Mul", []string{g, xhat}), n.Outputs[0], scale); err != nil {
				return nil, err
			}
		}
		if b.needs(n, 2) {
			if out[2], err = b.sumTo(g, n.Outputs[0], n.Inputs[2]); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// layerNormStats returns the Mean and InvStdDev outputs of the forward
// LayerNormalization n, naming them where the model leaves them out: with
// them x̂ = (x − mean)·invstd takes two passes over x, where recomputing
// the statistics takes three and two reductions.
func (b *builder) layerNormStats(n *onnx.Node) (mean, inv string) {
	fwd := b.forward[n]
	outs := fwd.GetOutput()
	for len(outs) < 3 {
		outs = append(outs, "")
	}
	if outs[1] == "" {
		outs[1] = b.fresh("layernorm_mean")
	}
	if outs[2] == "" {
		outs[2] = b.fresh("layernorm_invstddev")
	}
	fwd.Output = outs
	return outs[1], outs[2]
}

// normBack returns, for x normalised over axes (count elements each) and
// scaled by scale (broadcast to x), the input gradient (when wantX) and x̂:
// with r = 1/√(σ² + ε) and dx̂ = dy·scale, dx = r·(dx̂ − mean(dx̂) −
// x̂·mean(dx̂·x̂)).
func (b *builder) normBack(x, g, scale string, axes []int64, count int, eps float32, wantX bool) (dx, xhat string) {
	ax := b.int64s(axes...)
	mean := func(v string) string {
		return b.op("Div", []string{b.op("ReduceSum", []string{v, ax}, aInt("keepdims", 1)), b.scalar(float32(count))})
	}
	xc := b.op("Sub", []string{x, mean(x)})
	r := b.op("Reciprocal", []string{b.op("Sqrt", []string{b.op("Add", []string{mean(b.op("Mul", []string{xc, xc})), b.scalar(eps)})})})
	xhat = b.op("Mul", []string{xc, r})
	if wantX {
		dx = b.normCompact(xhat, b.op("Mul", []string{g, scale}), axes, count, "Mul", r)
	}
	return dx, xhat
}
