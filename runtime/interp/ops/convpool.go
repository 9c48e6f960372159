package ops

import (
	"fmt"
	"strings"

	"github.com/onnxguard/onnxguard/onnx"
)

// window holds the spatial settings that Conv, ConvTranspose, MaxPool and
// AveragePool share: kernel, strides, pads (begin..., end...), dilations.
type window struct {
	kernel, strides, pads, dilations []int
	autoPad                          string
	ceil                             bool
}

// parseWindow reads the shared attributes; kernel may be empty when it comes
// from a weight's shape.
func parseWindow(n *Node) (window, error) {
	var w window
	get := func(name string) ([]int, error) {
		v, err := n.Ints(name, nil)
		if err != nil {
			return nil, err
		}
		least := int64(1)
		if name == "pads" {
			least = 0 // ONNX Runtime crashes on a Conv with negative pads
		}
		return windowInts(name, v, least)
	}
	var err error
	if w.kernel, err = get("kernel_shape"); err != nil {
		return w, err
	}
	if w.strides, err = get("strides"); err != nil {
		return w, err
	}
	if w.pads, err = get("pads"); err != nil {
		return w, err
	}
	if w.dilations, err = get("dilations"); err != nil {
		return w, err
	}
	if w.autoPad, err = n.Str("auto_pad", "NOTSET"); err != nil {
		return w, err
	}
	switch w.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	default:
		return w, fmt.Errorf("auto_pad %q is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", w.autoPad)
	}
	ceil, err := n.Int("ceil_mode", 0)
	if err == nil && ceil != 0 && ceil != 1 {
		// ONNX Runtime and the interpreter read other values differently.
		err = fmt.Errorf("%w: ceil_mode=%d; it is 0 or 1", onnx.ErrInvalid, ceil)
	}
	w.ceil = ceil != 0
	return w, err
}

// maxWindow bounds every kernel, stride, dilation and pad: far past any
// real model's, and small enough that the window arithmetic of any input
// the memory budget admits cannot overflow.
const maxWindow = 1 << 20

// windowInts converts a window attribute, each value of which must lie in
// [least, maxWindow].
func windowInts(name string, v []int64, least int64) ([]int, error) {
	out := make([]int, len(v))
	for i, x := range v {
		if x < least || x > maxWindow {
			return nil, fmt.Errorf("%w: %s=%v: value %d is out of range (each must lie in [%d, %d])", onnx.ErrInvalid, name, v, x, least, maxWindow)
		}
		out[i] = int(x)
	}
	return out, nil
}

// resolve fills defaults for a spatial rank and input size, and returns the
// output spatial size. It is the shape rule of the whole family.
func (w window) resolve(in []int, kernel []int) (window, []int, error) {
	r := len(in)
	if len(kernel) != r {
		return w, nil, fmt.Errorf("kernel %v has %d spatial dims, input has %d", kernel, len(kernel), r)
	}
	fill := func(v []int, def int, n int) ([]int, error) {
		if len(v) == 0 {
			v = make([]int, n)
			for i := range v {
				v[i] = def
			}
		}
		if len(v) != n {
			return nil, fmt.Errorf("%d values where %d are needed", len(v), n)
		}
		return v, nil
	}
	out := window{kernel: kernel, autoPad: w.autoPad, ceil: w.ceil}
	var err error
	if out.strides, err = fill(w.strides, 1, r); err != nil {
		return w, nil, fmt.Errorf("strides: %w", err)
	}
	if out.dilations, err = fill(w.dilations, 1, r); err != nil {
		return w, nil, fmt.Errorf("dilations: %w", err)
	}
	if out.pads, err = fill(append([]int(nil), w.pads...), 0, 2*r); err != nil {
		return w, nil, fmt.Errorf("pads: %w", err)
	}
	size := make([]int, r)
	for i := 0; i < r; i++ {
		ek := (kernel[i]-1)*out.dilations[i] + 1
		s := out.strides[i]
		switch w.autoPad {
		case "VALID":
			out.pads[i], out.pads[i+r] = 0, 0
		case "SAME_UPPER", "SAME_LOWER":
			o := (in[i] + s - 1) / s
			total := max((o-1)*s+ek-in[i], 0)
			small, big := total/2, total-total/2
			if strings.HasSuffix(w.autoPad, "UPPER") {
				out.pads[i], out.pads[i+r] = small, big
			} else {
				out.pads[i], out.pads[i+r] = big, small
			}
		}
		if in[i] < 1 {
			return w, nil, fmt.Errorf("input size %d on spatial axis %d", in[i], i)
		}
		span := in[i] + out.pads[i] + out.pads[i+r] - ek
		if span < 0 {
			return w, nil, fmt.Errorf("kernel %d (dilated %d) is larger than padded input %d on spatial axis %d", kernel[i], ek, in[i]+out.pads[i]+out.pads[i+r], i)
		}
		if out.ceil {
			size[i] = (span+s-1)/s + 1
			// The last window must start inside the input or left padding.
			if (size[i]-1)*s >= in[i]+out.pads[i] {
				size[i]--
			}
		} else {
			size[i] = span/s + 1
		}
	}
	return out, size, nil
}
