package gradgraph

import (
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
)

// ReduceMean: dx is dy spread back over the reduced axes, divided by how
// many elements each mean took.
func init() {
	register("ReduceMean", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		return b.reduceBack(n, dy[0], true)
	})
}

// reduceAxes returns the axes reduction n (ReduceSum, ReduceMean and the
// like) reduces x over, from the attribute (up to opset 12 and for
// ReduceMean up to 17) or the constant second input, made non-negative
// (none listed: every axis), each static in x, and whether n keeps them;
// noop is set where n reduces nothing (noop_with_empty_axes, no axes).
func (b *builder) reduceAxes(n *onnx.Node) (axes []int64, keep, noop bool, err error) {
	xs, err := b.shape(n.Inputs[0])
	if err != nil {
		return nil, false, false, err
	}
	k, err := n.Int("keepdims", 1)
	if err != nil {
		return nil, false, false, err
	}
	if axes, err = n.Ints("axes", nil); err != nil {
		return nil, false, false, err
	}
	if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		var ok bool
		if axes, ok = b.constInts(n.Inputs[1]); !ok {
			return nil, false, false, unsupported("axes computed at run time")
		}
	}
	if e, _ := n.Int("noop_with_empty_axes", 0); e != 0 && len(axes) == 0 {
		return nil, k != 0, true, nil
	}
	if len(axes) == 0 {
		for i := range xs {
			axes = append(axes, int64(i))
		}
	}
	out := make([]int64, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += int64(len(xs))
		}
		if a < 0 || int(a) >= len(xs) || xs[a] < 0 {
			return nil, false, false, unsupported("reduction over axis %d of %v", axes[i], xs)
		}
		out[i] = a
	}
	return out, k != 0, false, nil
}

// reduceBack serves ReduceSum and ReduceMean: dy spread back over the
// reduced axes, divided by their size for a mean.
func (b *builder) reduceBack(n *onnx.Node, g string, mean bool) ([]string, error) {
	axes, keep, noop, err := b.reduceAxes(n)
	if err != nil {
		return nil, err
	}
	if noop {
		return []string{g, ""}, nil
	}
	count := 1
	for _, a := range axes {
		count *= b.shapes[n.Inputs[0]][a]
	}
	if !keep {
		g = b.op("Unsqueeze", []string{g, b.int64s(axes...)})
	}
	if mean {
		g = b.op("Div", []string{g, b.scalar(float32(count))})
	}
	out := make([]string, len(n.Inputs))
	if slices.Contains(axes, 0) {
		out[0] = b.op("Expand", []string{g, b.shapeTensor(n.Inputs[0])})
	} else {
		out[0] = b.expandBatch(g, n.Inputs[0])
	}
	return out, nil
}
