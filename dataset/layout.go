package dataset

import (
	"fmt"
	"slices"
	"strings"
)

// Layout is the order of the axes of a model's image input. Data, attacks
// and everything onnxguard writes stay N×C×H×W; a channels-last model gets
// its input transposed where the preprocessing is applied, and gradients
// with respect to its input transposed back (Preprocess.Apply, Backward),
// so the layout is one field of the Preprocess that travels to every
// place pixels become model input.
type Layout uint8

const (
	NCHW Layout = iota // channels first, as PyTorch exports; the zero value
	NHWC               // channels last, as tf2onnx and Keras export
)

func (l Layout) String() string {
	if l == NHWC {
		return "NHWC"
	}
	return "NCHW"
}

// MarshalText writes the layout's name, for JSON.
func (l Layout) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a layout's name, in any case.
func (l *Layout) UnmarshalText(b []byte) error {
	v, err := ParseLayout(string(b))
	if err == nil {
		*l = v
	}
	return err
}

// ParseLayout parses "nchw" or "nhwc", in any case.
func ParseLayout(s string) (Layout, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nchw":
		return NCHW, nil
	case "nhwc":
		return NHWC, nil
	}
	return NCHW, fmt.Errorf("dataset: layout %q: choose nchw (channels first) or nhwc (channels last)", s)
}

// DetectLayout returns the layout a model input of the declared shape most
// likely has: NHWC when it has rank 4, its last axis is 1 or 3 (grey or
// colour channels) and its second axis is neither (dynamic counts as
// neither); NCHW otherwise. An input such as N×3×32×3 is ambiguous and
// gets NCHW: name the layout to override.
func DetectLayout(inputShape []int64) Layout {
	if len(inputShape) == 4 && channelsLast(inputShape[1], inputShape[3]) {
		return NHWC
	}
	return NCHW
}

// channelsLast is the rule by which a 4-D shape with second axis second
// and last axis last is taken for N×H×W×C, for models and .npy data alike.
func channelsLast(second, last int64) bool {
	channels := func(d int64) bool { return d == 1 || d == 3 }
	return channels(last) && !channels(second)
}

// Shape returns the shape of a batch of n samples of c×h×w pixels as the
// model takes it.
func (l Layout) Shape(n, c, h, w int) []int {
	if l == NHWC {
		return []int{n, h, w, c}
	}
	return []int{n, c, h, w}
}

// SampleDims returns the channels, height and width, in that order, of a
// rank-4 model input of the declared shape, dimensions ≤ 0 being dynamic;
// nil for another rank.
func (l Layout) SampleDims(inputShape []int64) []int64 {
	if len(inputShape) != 4 {
		return nil
	}
	if l == NHWC {
		return []int64{inputShape[3], inputShape[1], inputShape[2]}
	}
	return slices.Clone(inputShape[1:])
}

// Axes names the axes of a batch in the layout's order: "N×C×H×W" or
// "N×H×W×C".
func (l Layout) Axes() string {
	if l == NHWC {
		return "N×H×W×C"
	}
	return "N×C×H×W"
}

// other returns the layout that is not l.
func (l Layout) other() Layout {
	if l == NHWC {
		return NCHW
	}
	return NHWC
}

// toChannelsLast sets dst, whole samples of channels-last values, to
// src[i]*a[ch] + b[ch] for src, NCHW samples with c channels of hw pixels,
// and returns it; coef gives a and b per channel. A nil or short dst
// allocates; dst may be src.
func toChannelsLast(dst, src []float32, c, hw int, coef func(ch int) (a, b float32)) []float32 {
	return transposeChannels(dst, src, c, hw, true, coef)
}

// fromChannelsLast is the inverse transposition of toChannelsLast: src
// holds channels-last samples and dst receives NCHW ones, each value
// mapped by its channel's a and b.
func fromChannelsLast(dst, src []float32, c, hw int, coef func(ch int) (a, b float32)) []float32 {
	return transposeChannels(dst, src, c, hw, false, coef)
}

// transposeChannels moves each sample between NCHW and channels-last,
// mapping value v of channel ch to v*a + b.
func transposeChannels(dst, src []float32, c, hw int, toLast bool, coef func(ch int) (a, b float32)) []float32 {
	dst, src = transposeBuffers(dst, src)
	per := c * hw
	if per < 1 {
		copy(dst, src)
		return dst
	}
	for s := 0; s+per <= len(src); s += per {
		in, out := src[s:s+per], dst[s:s+per]
		for ch := range c {
			a, b := coef(ch)
			// Pixel q of the channel: NCHW at ch*hw + q, channels-last at ch + q*c.
			inAt, inStep, outAt, outStep := ch*hw, 1, ch, c
			if !toLast {
				inAt, inStep, outAt, outStep = outAt, outStep, inAt, inStep
			}
			for q := range hw {
				out[outAt+q*outStep] = in[inAt+q*inStep]*a + b
			}
		}
	}
	return dst
}

// transposeBuffers sizes dst for src, and copies src aside when dst is
// the same slice, since a transposition cannot run in place.
func transposeBuffers(dst, src []float32) ([]float32, []float32) {
	dst = grow(dst, len(src))
	if len(src) > 0 && &dst[0] == &src[0] {
		src = slices.Clone(src)
	}
	return dst, src
}
