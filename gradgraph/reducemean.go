package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// ReduceMean: dx is dy spread back over the reduced axes, divided by how
// many elements each mean took.
func init() {
	register("ReduceMean", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.reduceBack(n, dy[0], true)
	})
}

// reduceBack serves ReduceSum and ReduceMean: axes from the attribute (up to
// opset 12 and for ReduceMean up to 17) or the constant second input.
func (b *builder) reduceBack(n *onnx.Node, g string, mean bool) ([]string, error) {
	xs, err := b.shape(n.Inputs[0])
	if err != nil {
		return nil, err
	}
	keep, err := n.Int("keepdims", 1)
	if err != nil {
		return nil, err
	}
	axes, err := n.Ints("axes", nil)
	if err != nil {
		return nil, err
	}
	if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		var ok bool
		if axes, ok = b.constInts(n.Inputs[1]); !ok {
			return nil, unsupported("axes computed at run time")
		}
	}
	if noop, _ := n.Int("noop_with_empty_axes", 0); noop != 0 && len(axes) == 0 {
		return []string{g, ""}, nil
	}
	if len(axes) == 0 {
		for i := range xs {
			axes = append(axes, int64(i))
		}
	}
	count := 1
	for i, a := range axes {
		if a < 0 {
			axes[i] = a + int64(len(xs))
		}
		if axes[i] < 0 || int(axes[i]) >= len(xs) || xs[axes[i]] < 0 {
			return nil, unsupported("reduction over axis %d of %v", a, xs)
		}
		count *= xs[axes[i]]
	}
	if keep == 0 {
		g = b.op("Unsqueeze", []string{g, b.int64s(axes...)})
	}
	if mean {
		g = b.op("Div", []string{g, b.scalar(float32(count))})
	}
	out := make([]string, len(n.Inputs))
	out[0] = b.expandTo(g, n.Inputs[0]) // the reduced axes are static
	return out, nil
}
