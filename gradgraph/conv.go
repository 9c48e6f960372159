package gradgraph

import (
	"math"
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
)

// Conv: the input gradient is a ConvTranspose of dy with the same weights
// (a Conv with flipped weights at unit strides, a MatMul for 1×1 kernels);
// the weight gradient, for a dense 2-D Conv, dy times the input's patches
// (convweight.go), otherwise a Conv of the input by dy, batch and channels
// swapped so that the batch is what the Conv sums over, group by group;
// the bias gradient dy summed over all but the channel axis.
func init() {
	register("Conv", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		x, w, g := n.Inputs[0], n.Inputs[1], dy[0]
		ws, err := b.shape(w)
		if err != nil {
			return nil, err
		}
		kernel := make([]int64, len(ws)-2)
		for i, d := range ws[2:] {
			kernel[i] = int64(d)
		}
		win, err := b.windowOf(n, x, n.Outputs[0], kernel)
		if err != nil {
			return nil, err
		}
		group, err := n.Int("group", 1)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(n.Inputs))
		c, chainable := chainConvOf(b.forward[n], ws, group, win)
		if chainable {
			b.convs = append(b.convs, c)
		}
		blocked := chainable && c.alone()
		if blocked {
			b.sites = append(b.sites, c.site([]*onnx.NodeProto{c.n}))
		}
		if b.needs(n, 0) {
			if win.pointwise() && group == 1 {
				out[0] = b.pointwiseInputGrad(g, w, ws, win)
			} else if win.unitStrides() && ws[1]*int(group) >= minConvChannels {
				first := len(b.nodes)
				out[0] = b.convInputGrad(g, w, win, group, ws)
				if blocked {
					// The Conv of dy by the flipped weights, channels exchanged.
					b.sites = append(b.sites, inputGradSite(slices.Clone(b.nodes[first:]), out[0], g, w,
						int64(ws[1])*group, int64(ws[0])/group, group, win.inputGrad()))
				}
			} else {
				out[0] = win.spreadBack(b, g, w, group)
			}
		}
		if b.needs(n, 1) {
			if group == 1 {
				out[1] = b.matmulWeightGrad(x, g, win, ws)
			}
			if out[1] == "" {
				first := len(b.nodes)
				out[1] = b.convWeightGrad(x, g, win, group, ws)
				if blocked && group > 1 && win.unitStrides() && win.undilated() { // depthwise
					b.sites = append(b.sites, depthwiseWeightGradSite(slices.Clone(b.nodes[first:]), out[1], x, g, group, win))
				}
			}
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

// minConvChannels is the fewest input channels for which convInputGrad's
// Conv beats a ConvTranspose: ONNX Runtime's Conv works on blocks of 8 or
// 16 channels, and on the one or three channels of an image its blocked
// layout costs more than it saves (3× on the MNIST benchmark model).
const minConvChannels = 8

// convInputGrad returns the input gradient of a stride-1 Conv as a Conv of
// dy with the weights flipped and their channel axes exchanged, group by
// group, padded by d·(K−1) less the forward pads: ONNX Runtime's Conv
// kernels are several times faster than its ConvTranspose, and the weights'
// rearrangement is folded into a constant when they are initializers.
func (b *builder) convInputGrad(g, w string, win *window, group int64, ws []int) string {
	r := len(win.kernel)
	m, cg := int64(ws[0]), int64(ws[1])
	kdims := make([]int64, r)
	for i, k := range win.kernel {
		kdims[i] = k
	}
	wt := b.op("Reshape", []string{w, b.int64s(append([]int64{group, m / group, cg}, kdims...)...)})
	perm := []int64{0, 2, 1}
	for i := range r {
		perm = append(perm, int64(3+i))
	}
	wt = b.op("Transpose", []string{wt}, aInts("perm", perm...))
	wt = b.op("Reshape", []string{wt, b.int64s(append([]int64{group * cg, m / group}, kdims...)...)})
	starts, ends, axes, steps := make([]int64, r), make([]int64, r), make([]int64, r), make([]int64, r)
	for i := range r {
		starts[i], ends[i], axes[i], steps[i] = -1, math.MinInt64, int64(i+2), -1
	}
	wt = b.op("Slice", []string{wt, b.int64s(starts...), b.int64s(ends...), b.int64s(axes...), b.int64s(steps...)})
	back := win.inputGrad()
	return b.op("Conv", []string{g, wt}, aInts("pads", back.pads...), aInts("dilations", back.dilations...), aInt("group", group))
}

// pointwise reports whether the window is 1×…×1 with unit strides and no
// pads: a Conv over it is a matrix product at every position.
func (w *window) pointwise() bool {
	for i, k := range w.kernel {
		if k != 1 || w.strides[i] != 1 || w.pads[i] != 0 || w.pads[len(w.in)+i] != 0 {
			return false
		}
	}
	return true
}

// pointwiseInputGrad returns the input gradient of a pointwise Conv,
// dx[n, c, p] = Σ_m w[m, c]·dy[n, m, p], as a MatMul of the transposed
// weights by dy with its spatial axes flattened. ONNX Runtime turns a Conv
// into its blocked NCHWc layout, reordering dy into it and the result back,
// two passes over each tensor that the element-wise masks between the
// backward Convs (Relu's, Clip's) make it pay at every layer; its MatMul
// works on the NCHW tensors as they are.
func (b *builder) pointwiseInputGrad(g, w string, ws []int, win *window) string {
	m, c := int64(ws[0]), int64(ws[1])
	wt := b.op("Transpose", []string{b.op("Reshape", []string{w, b.int64s(m, c)})}, aInts("perm", 1, 0))
	dx := b.op("MatMul", []string{wt, b.op("Reshape", []string{g, b.int64s(0, m, -1)})})
	shape := []int64{0, c}
	for _, d := range win.in {
		shape = append(shape, int64(d))
	}
	return b.op("Reshape", []string{dx, b.int64s(shape...)})
}

// convWeightGrad returns dW[m, c, k] = Σ_n,o dy[n, m, o]·x[n, c, o·s + k·d − p]
// as one Conv with group G over x laid out [C/G, G·N, …] and dy as weights
// [M, N, …], strides and dilations exchanged; the result, [C/G, M, K'…]
// with K' ≥ K, is cropped to the kernel and transposed to [M, C/G, K…].
func (b *builder) convWeightGrad(x, g string, win *window, group int64, ws []int) string {
	r := len(win.kernel)
	cg := int64(ws[1])
	spatial := make([]int64, r)
	for i, d := range win.in {
		spatial[i] = int64(d)
	}
	perm := func(first ...int64) []int64 {
		lead := len(first)
		for i := range r {
			first = append(first, int64(lead+i))
		}
		return first
	}
	xg := b.op("Reshape", []string{x, b.int64s(append([]int64{0, group, cg}, spatial...)...)})
	xg = b.op("Transpose", []string{xg}, aInts("perm", perm(2, 1, 0)...))
	xg = b.op("Reshape", []string{xg, b.int64s(append([]int64{cg, -1}, spatial...)...)})
	gt := b.op("Transpose", []string{g}, aInts("perm", perm(1, 0)...))
	dw := b.op("Conv", []string{xg, gt}, aInts("strides", win.dilations...), aInts("dilations", win.strides...),
		aInts("pads", win.pads...), aInt("group", group))
	crop := false
	var starts, ends, axes []int64
	for i := range r {
		full := (int64(win.in[i])+win.pads[i]+win.pads[r+i]-int64(win.out[i]-1)*win.strides[i]-1)/win.dilations[i] + 1
		crop = crop || full != win.kernel[i]
		starts, ends, axes = append(starts, 0), append(ends, win.kernel[i]), append(axes, int64(i+2))
	}
	if crop {
		dw = b.op("Slice", []string{dw, b.int64s(starts...), b.int64s(ends...), b.int64s(axes...)})
	}
	return b.op("Transpose", []string{dw}, aInts("perm", perm(1, 0)...))
}
