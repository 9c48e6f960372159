package dataset

import (
	"fmt"
	"strings"
)

// LayoutError is wrapped by CheckShape's error when the model's input fits
// the data in the other layout: Layout.
type LayoutError struct{ Layout Layout }

func (e *LayoutError) Error() string {
	return fmt.Sprintf("the input fits the data in layout %s: give that layout", e.Layout)
}

// wantsText is a 4-D input's sample shape as CheckShape's errors give it.
func wantsText(inputShape []int64, l Layout) string {
	wants := dimsText(inputShape[1:])
	if l == NHWC {
		wants += " (" + strings.TrimPrefix(l.Axes(), "N×") + ")"
	}
	return wants
}

// CheckShape reports whether a model input of shape inputShape, in layout
// l, accepts src's samples: N×C×H×W (N×H×W×C for NHWC), or N×F with F =
// C·H·W for models that take flattened pixels. Dimensions ≤ 0 are dynamic
// and match anything; the batch dimension is not checked. The error does
// not know the input's name; wrap it with the name.
func CheckShape(src Source, inputShape []int64, l Layout) error {
	c, h, w := src.Dims()
	data := fmt.Sprintf("%dx%dx%d (C×H×W)", c, h, w)
	switch len(inputShape) {
	case 4:
		want := l.SampleDims(inputShape)
		if fits(want, c, h, w) {
			return nil
		}
		hint := ""
		switch {
		case fits(l.other().SampleDims(inputShape), c, h, w):
			return fmt.Errorf("dataset: data is %s but model input wants %s; %w", data, wantsText(inputShape, l), &LayoutError{Layout: l.other()})
		case fits(want[1:], h, w):
			hint = fmt.Sprintf("; only the channels differ: the model wants %d", want[0])
		case fits(want[:1], c):
			hint = "; only the image size differs"
		}
		return fmt.Errorf("dataset: data is %s but model input wants %s%s", data, wantsText(inputShape, l), hint)
	case 2:
		if fits(inputShape[1:], c*h*w) {
			return nil
		}
		return fmt.Errorf("dataset: data is %s, %d values a sample, but model input wants %d values a sample", data, c*h*w, inputShape[1])
	}
	return fmt.Errorf("dataset: model input has shape %s, rank %d; want rank 4 (%s) or 2 (N×features) for data of %s",
		dimsText(inputShape), len(inputShape), l.Axes(), data)
}

// fits reports whether each of want is dynamic or equal to the matching
// entry of got.
func fits(want []int64, got ...int) bool {
	for i, d := range want {
		if d > 0 && d != int64(got[i]) {
			return false
		}
	}
	return true
}

// dimsText writes dims as "28x28".
func dimsText[T int | int64](dims []T) string {
	var b strings.Builder
	for i, d := range dims {
		if i > 0 {
			b.WriteByte('x')
		}
		if d <= 0 {
			b.WriteByte('?')
		} else {
			fmt.Fprint(&b, d)
		}
	}
	return b.String()
}
