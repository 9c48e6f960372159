package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPreprocess(t *testing.T) {
	const n, hw = 2, 5
	for i, test := range []struct {
		p    Preprocess
		c    int
		want func(pixel float32, ch int) float32
	}{
		{Preprocess{}, 3, func(v float32, ch int) float32 { return v }},
		{Preprocess{Scale: 255}, 1, func(v float32, ch int) float32 { return v * 255 }},
		{Preprocess{Mean: []float32{0.5}, Std: []float32{0.25}}, 3, func(v float32, ch int) float32 { return (v - 0.5) / 0.25 }},
		{Preprocess{Scale: 2, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}, 3,
			func(v float32, ch int) float32 {
				return (v*2 - []float32{0.485, 0.456, 0.406}[ch]) / []float32{0.229, 0.224, 0.225}[ch]
			}},
		{Preprocess{Std: []float32{-2, 4}}, 2, func(v float32, ch int) float32 { return v / []float32{-2, 4}[ch] }},
		{Preprocess{Layout: NHWC}, 3, func(v float32, ch int) float32 { return v }},
		{Preprocess{Layout: NHWC, Scale: 255}, 1, func(v float32, ch int) float32 { return v * 255 }},
		{Preprocess{Layout: NHWC, Scale: 2, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}, 3,
			func(v float32, ch int) float32 {
				return (v*2 - []float32{0.485, 0.456, 0.406}[ch]) / []float32{0.229, 0.224, 0.225}[ch]
			}},
		{Preprocess{Layout: NHWC, Std: []float32{-2, 4}}, 2, func(v float32, ch int) float32 { return v / []float32{-2, 4}[ch] }},
	} {
		if err := test.p.Validate(test.c); err != nil {
			t.Fatalf("case %d: Validate: %v", i, err)
		}
		rnd := rand.New(rand.NewPCG(1, uint64(i)))
		pixels := make([]float32, n*test.c*hw)
		for j := range pixels {
			pixels[j] = rnd.Float32()
		}
		in := test.p.Apply(nil, pixels, test.c, hw)
		for j, v := range pixels {
			ch := j / hw % test.c
			at := j // where pixel j lands in the model's input
			if test.p.Layout == NHWC {
				per := test.c * hw
				at = j/per*per + j%hw*test.c + ch
			}
			if want := test.want(v, ch); !close32(in[at], want, 1e-5) {
				t.Fatalf("case %d: Apply at %d (channel %d) = %v; want %v", i, at, ch, in[at], want)
			}
		}
		if back := test.p.Invert(nil, in, test.c, hw); !slicesClose(back, pixels, 1e-5) {
			t.Errorf("case %d: Invert(Apply(x)) = %v; want x = %v", i, back, pixels)
		}
		// Apply is affine, so for any direction v and gradient g,
		// <Apply(x+v) - Apply(x), g> = <v, Backward(g)>: for a channels-last
		// model, the gradient with respect to the NCHW pixels is the
		// transposed gradient with respect to the NHWC input.
		v, g := make([]float32, len(pixels)), make([]float32, len(pixels))
		moved := slices.Clone(pixels)
		for j := range v {
			v[j], g[j] = rnd.Float32()-0.5, rnd.Float32()-0.5
			moved[j] += v[j]
		}
		inMoved := test.p.Apply(nil, moved, test.c, hw)
		gradPixels := test.p.Backward(nil, g, test.c, hw)
		var lhs, rhs float64
		for j := range g {
			lhs += float64(inMoved[j]-in[j]) * float64(g[j])
			rhs += float64(v[j]) * float64(gradPixels[j])
		}
		if math.Abs(lhs-rhs) > 1e-3*math.Max(1, math.Abs(lhs)) {
			t.Errorf("case %d: <ΔApply, g> = %v but <Δpixels, Backward(g)> = %v", i, lhs, rhs)
		}
		// In place, and reusing dst.
		dst := slices.Clone(pixels)
		if got := test.p.Apply(dst, dst, test.c, hw); !slices.Equal(got, in) || &got[0] != &dst[0] {
			t.Errorf("case %d: Apply in place differs or did not reuse dst", i)
		}
		dst = slices.Clone(g)
		if got := test.p.Backward(dst, dst, test.c, hw); !slices.Equal(got, gradPixels) || &got[0] != &dst[0] {
			t.Errorf("case %d: Backward in place differs or did not reuse dst", i)
		}
	}
}

func TestPreprocessValidate(t *testing.T) {
	for i, test := range []struct {
		p    Preprocess
		c    int
		says string // "" for valid
	}{
		{Preprocess{}, 3, ""},
		{Preprocess{Mean: []float32{0.1}, Std: []float32{0.2, 0.3, 0.4}}, 3, ""},
		{Preprocess{Mean: []float32{0.1, 0.2}}, 3, "2 mean values for 3-channel data; want one value, or one per channel"},
		{Preprocess{Std: []float32{1, 1, 1}}, 1, "3 standard deviation values for 1-channel data"},
		{Preprocess{Std: []float32{1, 0, 1}}, 3, "standard deviation value 2 of 3 is 0"},
		{Preprocess{Std: []float32{float32(math.NaN())}}, 3, "standard deviation value 1 of 1 is NaN"},
		{Preprocess{Mean: []float32{float32(math.Inf(1))}}, 3, "mean value 1 of 1 is +Inf"},
		{Preprocess{Scale: float32(math.NaN())}, 3, "scale is NaN"},
		{Preprocess{Scale: -1}, 3, "scale is -1"},
	} {
		err := test.p.Validate(test.c)
		if test.says == "" {
			if err != nil {
				t.Errorf("case %d: %v; want no error", i, err)
			}
			continue
		}
		wantError(t, fmt.Sprintf("case %d", i), err, test.says)
	}
}

func close32(a, b float32, tol float64) bool {
	return math.Abs(float64(a-b)) <= tol*math.Max(1, math.Abs(float64(b)))
}

func slicesClose(a, b []float32, tol float64) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return close32(x, y, tol) })
}
