package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// AveragePool: dy divided by each window's element count, spread back over
// the window by a depthwise ConvTranspose with a kernel of ones.
func init() {
	register("AveragePool", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		kernel, err := n.Ints("kernel_shape", nil)
		if err != nil {
			return nil, err
		}
		win, err := b.windowOf(n, n.Inputs[0], n.Outputs[0], kernel)
		if err != nil {
			return nil, err
		}
		for _, d := range win.dilations {
			if d != 1 {
				return nil, unsupported("dilations %v", win.dilations)
			}
		}
		includePad, err := n.Int("count_include_pad", 0)
		if err != nil {
			return nil, err
		}
		c := b.shapes[n.Inputs[0]][1]
		dims := []int64{int64(c), 1}
		size := c
		for _, k := range kernel {
			dims = append(dims, k)
			size *= int(k)
		}
		ones := make([]float32, size)
		for i := range ones {
			ones[i] = 1
		}
		g := b.op("Div", []string{dy[0], win.counts(b, includePad != 0)})
		return []string{win.spreadBack(b, g, b.floats(dims, ones), int64(c))}, nil
	})
}

// counts returns how many elements each output position of an average
// pool divides by, as a constant map: those of its window inside the input
// (or inside the padded input with count_include_pad), so that windows
// ceil_mode lets overhang count what they cover.
func (w *window) counts(b *builder, includePad bool) string {
	r := len(w.in)
	dims := []int64{1, 1}
	total := 1
	for _, o := range w.out {
		dims = append(dims, int64(o))
		total *= o
	}
	data := make([]float32, total)
	for at := range data {
		count, rest := int64(1), at
		for i := r - 1; i >= 0; i-- {
			o := int64(rest % w.out[i])
			rest /= w.out[i]
			lo := o*w.strides[i] - w.pads[i]
			first, end := int64(0), int64(w.in[i])
			if includePad {
				first, end = -w.pads[i], end+w.pads[r+i]
			}
			count *= min(lo+w.kernel[i], end) - max(lo, first)
		}
		data[at] = float32(count)
	}
	return b.floats(dims, data)
}
