package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// ConvTranspose is the adjoint of a Conv from its output's shape to its
// input's: the input gradient is that Conv of dy with the same weights,
// strides, pads, dilations and groups; the weight gradient is that Conv's
// weight gradient with dy as its input and x as its output's gradient; the
// bias gradient dy summed over all but the channel axis. Explicit pads
// only: auto_pad and output_shape are refused.
func init() {
	register("ConvTranspose", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		if pad, _ := n.Str("auto_pad", "NOTSET"); pad != "NOTSET" || n.Has("output_shape") {
			return nil, unsupported("auto_pad %s or output_shape (only explicit pads)", pad)
		}
		x, w, g := n.Inputs[0], n.Inputs[1], dy[0]
		ws, err := b.shape(w)
		if err != nil {
			return nil, err
		}
		kernel := make([]int64, len(ws)-2)
		for i, d := range ws[2:] {
			kernel[i] = int64(d)
		}
		win, err := b.windowOf(n, n.Outputs[0], x, kernel) // the Conv from y's shape to x's
		if err != nil {
			return nil, err
		}
		group, err := n.Int("group", 1)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(n.Inputs))
		if b.needs(n, 0) {
			out[0] = b.op("Conv", []string{g, w}, aInts("strides", win.strides...), aInts("pads", win.pads...),
				aInts("dilations", win.dilations...), aInt("group", group))
		}
		if b.needs(n, 1) {
			out[1] = b.convWeightGrad(g, x, win, group, ws)
		}
		if b.needs(n, 2) {
			axes := []int64{0}
			for i := range kernel {
				axes = append(axes, int64(i+2))
			}
			out[2] = b.op("ReduceSum", []string{g, b.int64s(axes...)}, aInt("keepdims", 0))
		}
		return out, nil
	})
}
