package dataset

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fixedDims is a Source of no samples with the given dimensions.
type fixedDims struct{ frame }

func (fixedDims) Next(*Batch, int) error { return nil }
func (fixedDims) Close() error           { return nil }

func TestCheckShape(t *testing.T) {
	mnist := &fixedDims{frame{c: 1, h: 28, w: 28}}
	cifar := &fixedDims{frame{c: 3, h: 32, w: 32}}
	for i, test := range []struct {
		src    Source
		shape  []int64
		layout Layout
		says   string // "" when it fits
	}{
		{mnist, []int64{1, 1, 28, 28}, NCHW, ""},
		{mnist, []int64{-1, 1, 28, 28}, NCHW, ""},
		{mnist, []int64{0, 0, -1, -1}, NCHW, ""},
		{mnist, []int64{-1, 784}, NCHW, ""},
		{mnist, []int64{-1, -1}, NCHW, ""},
		{cifar, []int64{-1, 3, 32, 32}, NCHW, ""},
		{mnist, []int64{1, 3, 32, 32}, NCHW, "data is 1x28x28 (C×H×W) but model input wants 3x32x32"},
		{mnist, []int64{1, 3, 28, 28}, NCHW, "only the channels differ: the model wants 3"},
		{mnist, []int64{1, 1, 32, -1}, NCHW, "wants 1x32x?; only the image size differs"},
		{cifar, []int64{1, 32, 32, 3}, NCHW, "fits the data in layout NHWC: give that layout"},
		{cifar, []int64{-1, 32, 32, 3}, NHWC, ""},
		{mnist, []int64{-1, 28, 28, 1}, NHWC, ""},
		{mnist, []int64{-1, -1, -1, 1}, NHWC, ""},
		{mnist, []int64{-1, 1, 28, 28}, NHWC, "wants 1x28x28 (H×W×C); the input fits the data in layout NCHW"},
		{mnist, []int64{-1, 28, 28, 3}, NHWC, "wants 28x28x3 (H×W×C); only the channels differ: the model wants 3"},
		{mnist, []int64{-1, 32, 32, 1}, NHWC, "only the image size differs"},
		{mnist, []int64{-1, 784}, NHWC, ""},
		{cifar, []int64{-1, 784}, NCHW, "3072 values a sample, but model input wants 784"},
		{cifar, []int64{3, 32, 32}, NCHW, "shape 3x32x32, rank 3; want rank 4"},
	} {
		err := CheckShape(test.src, test.shape, test.layout)
		if test.says == "" {
			if err != nil {
				t.Errorf("case %d: %v; want no error", i, err)
			}
			continue
		}
		wantError(t, fmt.Sprintf("case %d", i), err, test.says)
		var le *LayoutError
		if fits := strings.Contains(test.says, "fits the data in layout"); errors.As(err, &le) != fits || fits && le.Layout == test.layout {
			t.Errorf("case %d: %v: a LayoutError %v; want one naming the other layout: %v", i, err, le, fits)
		}
	}
}
