package dataset

import (
	"fmt"
	"math"
)

// Preprocess maps pixels to model input, channel by channel:
//
//	input = (pixel*Scale - Mean[c]) / Std[c]
//
// and then, for a channels-last model (Layout NHWC), transposes each sample
// from N×C×H×W to N×H×W×C. Its zero value is the identity. Scale 0 means
// 1; Mean and Std hold one value per channel, or a single value for all
// channels, or none (mean 0, std 1). Apply, Invert and Backward take p as
// valid for c channels (see Validate) and whole samples; a Mean or Std too
// short for a channel uses its first value.
type Preprocess struct {
	Scale     float32
	Mean, Std []float32
	// Layout is the model input's; pixels are always NCHW. Left out of
	// JSON when NCHW, so the keys of runs that predate it are unchanged.
	Layout Layout `json:",omitempty"`
}

// Validate checks p for data with c channels: Scale finite and not
// negative, Mean finite, Std finite and non-zero, and each of Mean and Std
// one value or one per channel.
func (p Preprocess) Validate(c int) error {
	if s := float64(p.Scale); math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		return fmt.Errorf("dataset: preprocessing scale is %v; want a finite positive number (0 means 1)", p.Scale)
	}
	for _, v := range []struct {
		name    string
		s       []float32
		nonZero bool
	}{{"mean", p.Mean, false}, {"standard deviation", p.Std, true}} {
		if n := len(v.s); n > 1 && n != c {
			return fmt.Errorf("dataset: %d %s values for %d-channel data; want one value, or one per channel", n, v.name, c)
		}
		for i, x := range v.s {
			f := float64(x)
			if math.IsNaN(f) || math.IsInf(f, 0) || v.nonZero && f == 0 {
				return fmt.Errorf("dataset: %s value %d of %d is %v; want a finite number (non-zero for a standard deviation)", v.name, i+1, len(v.s), x)
			}
		}
	}
	return nil
}

// coeffs returns the gain and offset of channel ch: input = pixel*a + b.
func (p Preprocess) coeffs(ch int) (a, b float32) {
	scale := p.Scale
	if scale == 0 {
		scale = 1
	}
	mean, std := channelValue(p.Mean, ch, 0), channelValue(p.Std, ch, 1)
	return scale / std, -mean / std
}

// channelValue returns v[ch], or v[0] when v is too short, or def when v
// is empty.
func channelValue(v []float32, ch int, def float32) float32 {
	switch {
	case len(v) == 0:
		return def
	case ch < len(v):
		return v[ch]
	}
	return v[0]
}

// affine sets dst[i] = src[i]*a[ch] + b[ch] for NCHW data with c channels
// of hw pixels, where coef gives a and b per channel.
func affine(dst, src []float32, c, hw int, coef func(ch int) (a, b float32)) []float32 {
	dst = grow(dst, len(src))
	if c < 1 || hw < 1 {
		copy(dst, src)
		return dst
	}
	for start := 0; start < len(src); start += hw {
		a, b := coef(start / hw % c)
		end := min(start+hw, len(src))
		for i, v := range src[start:end] {
			dst[start+i] = v*a + b
		}
	}
	return dst
}

// Apply sets dst to the model input for pixels, NCHW data with c channels
// of hw pixels each, and returns it in the model's layout; a nil or short
// dst allocates. dst may be pixels.
func (p Preprocess) Apply(dst, pixels []float32, c, hw int) []float32 {
	if p.Layout == NHWC {
		return toChannelsLast(dst, pixels, c, hw, p.coeffs)
	}
	return affine(dst, pixels, c, hw, p.coeffs)
}

// Invert sets dst to the pixels (NCHW) whose model input is input,
// undoing Apply.
func (p Preprocess) Invert(dst, input []float32, c, hw int) []float32 {
	inv := func(ch int) (a, b float32) {
		a, b = p.coeffs(ch)
		return 1 / a, -b / a
	}
	if p.Layout == NHWC {
		return fromChannelsLast(dst, input, c, hw, inv)
	}
	return affine(dst, input, c, hw, inv)
}

// Backward sets dst to the gradient of a loss with respect to the pixels
// (NCHW), given gradInput, its gradient with respect to the model input
// in the model's layout: d(loss)/d(pixel) = d(loss)/d(input) * Scale /
// Std[c], transposed back for a channels-last model.
func (p Preprocess) Backward(dst, gradInput []float32, c, hw int) []float32 {
	gain := func(ch int) (a, b float32) {
		a, _ = p.coeffs(ch)
		return a, 0
	}
	if p.Layout == NHWC {
		return fromChannelsLast(dst, gradInput, c, hw, gain)
	}
	return affine(dst, gradInput, c, hw, gain)
}
