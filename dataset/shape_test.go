package dataset

import (
	"fmt"
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
		src   Source
		shape []int64
		says  string // "" when it fits
	}{
		{mnist, []int64{1, 1, 28, 28}, ""},
		{mnist, []int64{-1, 1, 28, 28}, ""},
		{mnist, []int64{0, 0, -1, -1}, ""},
		{mnist, []int64{-1, 784}, ""},
		{mnist, []int64{-1, -1}, ""},
		{cifar, []int64{-1, 3, 32, 32}, ""},
		{mnist, []int64{1, 3, 32, 32}, "data is 1x28x28 (C×H×W) but model input wants 3x32x32"},
		{mnist, []int64{1, 3, 28, 28}, "only the channels differ: the model wants 3"},
		{mnist, []int64{1, 1, 32, -1}, "wants 1x32x?; only the image size differs"},
		{cifar, []int64{1, 32, 32, 3}, "channels-last"},
		{cifar, []int64{-1, 784}, "3072 values a sample, but model input wants 784"},
		{cifar, []int64{3, 32, 32}, "shape 3x32x32, rank 3; want rank 4"},
	} {
		err := CheckShape(test.src, test.shape)
		if test.says == "" {
			if err != nil {
				t.Errorf("case %d: %v; want no error", i, err)
			}
			continue
		}
		wantError(t, fmt.Sprintf("case %d", i), err, test.says)
	}
}
