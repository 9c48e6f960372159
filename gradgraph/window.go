package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// window is the sliding-window geometry Conv, MaxPool and AveragePool
// share, with auto_pad resolved to explicit pads for the static spatial
// shape.
type window struct {
	kernel, strides, dilations []int64
	pads                       []int64 // begins, then ends
	in, out                    []int   // spatial sizes
}

// windowOf reads the window of node n over input x producing y; kernel is
// the spatial kernel shape (Conv's from its weights, the pools' attribute).
func (b *builder) windowOf(n *onnx.Node, x, y string, kernel []int64) (*window, error) {
	xs, err := b.shape(x)
	if err != nil {
		return nil, err
	}
	ys, err := b.shape(y)
	if err != nil {
		return nil, err
	}
	r := len(xs) - 2
	if r < 1 || len(kernel) != r || len(ys) != len(xs) {
		return nil, unsupported("window of kernel %v over %v", kernel, xs)
	}
	w := &window{kernel: kernel, in: xs[2:], out: ys[2:]}
	for _, d := range append(append([]int(nil), w.in...), w.out...) {
		if d < 0 {
			return nil, unsupported("dynamic spatial shape %v", xs)
		}
	}
	ones := make([]int64, r)
	for i := range ones {
		ones[i] = 1
	}
	if w.strides, err = n.Ints("strides", ones); err != nil {
		return nil, err
	}
	if w.dilations, err = n.Ints("dilations", ones); err != nil {
		return nil, err
	}
	if w.pads, err = n.Ints("pads", make([]int64, 2*r)); err != nil {
		return nil, err
	}
	if len(w.strides) != r || len(w.dilations) != r || len(w.pads) != 2*r {
		return nil, unsupported("strides %v, dilations %v, pads %v for %d spatial axes", w.strides, w.dilations, w.pads, r)
	}
	autoPad, err := n.Str("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	switch autoPad {
	case "NOTSET":
	case "VALID":
		w.pads = make([]int64, 2*r)
	case "SAME_UPPER", "SAME_LOWER":
		w.pads = make([]int64, 2*r)
		for i := range r {
			total := max(0, int64(w.out[i]-1)*w.strides[i]+(w.kernel[i]-1)*w.dilations[i]+1-int64(w.in[i]))
			lo := total / 2
			if autoPad == "SAME_LOWER" {
				lo = total - total/2
			}
			w.pads[i], w.pads[r+i] = lo, total-lo
		}
	default:
		return nil, unsupported("auto_pad %q", autoPad)
	}
	return w, nil
}

// spreadBack returns the ConvTranspose of g, a gradient at the window's
// output, with weights w: the gradient at the window's input. The
// output_padding adds the input rows no window reached; where windows
// overhang the padded input (ceil_mode) the result is cropped instead.
//
// Strided Convs keep this form. The exact alternative, one stride-1 Conv of
// g by the s² phase sub-kernels (ceil(K/s) taps, zero-embedded) followed by
// DepthToSpace, measured no faster on ONNX Runtime 1.24's CPU kernels (2
// cores, batch 16): its Conv runs at the speed of ConvTranspose's GEMM
// (3× faster for a depthwise one), but DepthToSpace, like every operator
// that interleaves there (Transpose, Pad, Concat, Resize), costs 4-9 times
// an element-wise pass over the result. ResNet-50's 3×3/2 input gradient
// went from 26 ms to 29 + 20 ms, MobileNet-V2's ConvTranspose total of 71 ms
// became 89 ms of DepthToSpace alone, the 7×7/2 stem tied (median 57 ms as
// ConvTranspose, 55 as phases), and the 1×1/2 ones, as a MatMul with zeros
// interleaved by a Pad, lost 13-65 ms per layer to the Pad.
func (w *window) spreadBack(b *builder, g, weights string, group int64) string {
	r := len(w.in)
	op := make([]int64, r)
	var ends, axes []int64
	crop := false
	for i := range r {
		covered := int64(w.out[i]-1)*w.strides[i] + (w.kernel[i]-1)*w.dilations[i] + 1 - w.pads[i] - w.pads[r+i]
		op[i] = max(0, int64(w.in[i])-covered)
		crop = crop || covered > int64(w.in[i])
		ends, axes = append(ends, int64(w.in[i])), append(axes, int64(i+2))
	}
	dx := b.op("ConvTranspose", []string{g, weights}, aInts("strides", w.strides...), aInts("dilations", w.dilations...),
		aInts("pads", w.pads...), aInts("output_padding", op...), aInt("group", group))
	if crop {
		dx = b.op("Slice", []string{dx, b.int64s(make([]int64, r)...), b.int64s(ends...), b.int64s(axes...)})
	}
	return dx
}

// unitStrides reports whether the window moves by one on every axis and its
// pads stay within its reach, so that its transpose is a plain Conv.
func (w *window) unitStrides() bool {
	r := len(w.in)
	for i, s := range w.strides {
		reach := w.dilations[i] * (w.kernel[i] - 1)
		if s != 1 || w.pads[i] > reach || w.pads[r+i] > reach {
			return false
		}
	}
	return true
}

// undilated reports whether the window's dilations are all 1.
func (w *window) undilated() bool {
	for _, d := range w.dilations {
		if d != 1 {
			return false
		}
	}
	return true
}

// inputGrad is the window of a unit-stride Conv's input gradient as a
// Conv of dy by the flipped weights (convInputGrad): the same kernel and
// dilations, unit strides, padded by d·(K−1) less the forward pads, from
// the forward's output back to its input.
func (w *window) inputGrad() *window {
	r := len(w.kernel)
	back := &window{kernel: w.kernel, strides: make([]int64, r), dilations: w.dilations, pads: make([]int64, 2*r), in: w.out, out: w.in}
	for i := range r {
		reach := w.dilations[i] * (w.kernel[i] - 1)
		back.strides[i] = 1
		back.pads[i], back.pads[r+i] = reach-w.pads[i], reach-w.pads[r+i]
	}
	return back
}
