package ops

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// TestWindowAttributes builds the window operators with attributes the
// spec rules out or that would overflow the window arithmetic: each is a
// malformed-model error naming the attribute, at construction.
func TestWindowAttributes(t *testing.T) {
	for i, test := range []struct {
		op   string
		a    attrs
		want string
	}{
		{"Conv", attrs{"strides": []int64{0, 1}}, "strides"},
		{"Conv", attrs{"strides": []int64{1, -1}}, "strides"},
		{"Conv", attrs{"dilations": []int64{0, 1}}, "dilations"},
		{"Conv", attrs{"kernel_shape": []int64{-1, 3}}, "kernel_shape"},
		{"Conv", attrs{"pads": []int64{1 << 62, 0, 0, 0}}, "pads"},
		{"Conv", attrs{"pads": []int64{1 << 31, 0, 0, 0}}, "pads"},
		{"Conv", attrs{"pads": []int64{-1, 0, 1, -2}}, "pads"},
		{"Conv", attrs{"group": 0}, "group"},
		{"ConvTranspose", attrs{"strides": []int64{0, 0}}, "strides"},
		{"ConvTranspose", attrs{"output_padding": []int64{-1, 0}}, "output_padding"},
		{"ConvTranspose", attrs{"output_shape": []int64{1 << 62, 1}}, "output_shape"},
		{"MaxPool", attrs{"kernel_shape": []int64{0, 2}}, "kernel_shape"},
		{"MaxPool", attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{0, 2}}, "strides"},
		{"MaxPool", attrs{"kernel_shape": []int64{2, 2}, "pads": []int64{2, 0, 0, 0}}, "smaller than kernel_shape"},
		{"MaxPool", attrs{"kernel_shape": []int64{2, 2}, "ceil_mode": -1}, "ceil_mode"},
		{"AveragePool", attrs{"kernel_shape": []int64{1 << 31, 2}}, "kernel_shape"},
		{"AveragePool", attrs{"kernel_shape": []int64{3, 3}, "dilations": []int64{1, 0}}, "dilations"},
		{"DepthToSpace", attrs{"blocksize": int64(1) << 62}, "blocksize"}, // b² wrapped to 0 and divided by it
		{"SpaceToDepth", attrs{"blocksize": int64(1) << 31}, "blocksize"},
	} {
		nIn := 2
		if strings.HasSuffix(test.op, "Pool") || strings.HasSuffix(test.op, "Depth") || strings.HasSuffix(test.op, "Space") {
			nIn = 1
		}
		_, err := New(makeNode(t, test.op, test.a, nIn, 1), 19, "")
		if !errors.Is(err, onnx.ErrInvalid) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%d: %s %v: got %v, want an ErrInvalid naming %q", i, test.op, test.a, err, test.want)
		}
	}
}

// TestBudgetRefusesBeforeAllocating runs ops whose outputs outgrow their
// inputs with a budget of 1 Mi elements: an output past it is ErrTooLarge,
// one within it runs.
func TestBudgetRefusesBeforeAllocating(t *testing.T) {
	s := &State{Limit: 1 << 20}
	shape := func(v ...int64) *Tensor { return NewInts([]int{len(v)}, v) }
	scalar := func(v int64) *Tensor { return NewInts(nil, []int64{v}) }
	for i, test := range []struct {
		op  string
		a   attrs
		in  []*Tensor
		big bool
	}{
		{"ConstantOfShape", nil, []*Tensor{shape(1, 1000000, 1000000)}, true},
		{"ConstantOfShape", nil, []*Tensor{shape(1<<62, 1<<62)}, true},
		{"ConstantOfShape", nil, []*Tensor{shape(1000, 1000)}, false},
		{"Expand", nil, []*Tensor{NewFloat(1, 1), shape(1<<20, 1<<20)}, true},
		{"Tile", nil, []*Tensor{NewFloat(2, 2), shape(1<<62, 4)}, true},
		{"Range", nil, []*Tensor{scalar(0), scalar(1 << 40), scalar(1)}, true},
		{"Add", nil, []*Tensor{NewFloat(4096, 1), NewFloat(1, 4096)}, true},
		{"Add", nil, []*Tensor{NewFloat(1024, 1), NewFloat(1, 1024)}, false},
		{"MatMul", nil, []*Tensor{NewFloat(4096, 1), NewFloat(1, 4096)}, true},
		{"Pad", attrs{"mode": "constant"}, []*Tensor{NewFloat(1, 1), shape(0, 0, 1<<30, 1<<30)}, true},
		{"Conv", attrs{"pads": []int64{1 << 20, 1 << 20, 1 << 20, 1 << 20}}, []*Tensor{NewFloat(1, 1, 4, 4), NewFloat(1, 1, 1, 1)}, true},
		{"MaxPool", attrs{"kernel_shape": []int64{1, 1}}, []*Tensor{NewFloat(1, 1, 2048, 2048)}, true},
	} {
		op, err := New(makeNode(t, test.op, test.a, len(test.in), 1), 19, "")
		if err != nil {
			t.Fatalf("%d: %s: %v", i, test.op, err)
		}
		_, err = op.Forward(s, test.in)
		switch {
		case test.big && !errors.Is(err, ErrTooLarge):
			t.Errorf("%d: %s: got %v, want ErrTooLarge", i, test.op, err)
		case !test.big && err != nil:
			t.Errorf("%d: %s: %v", i, test.op, err)
		}
	}
}

func TestSafeNumel(t *testing.T) {
	for _, test := range []struct {
		shape []int
		limit int
		want  int
		ok    bool
	}{
		{[]int{2, 3, 4}, 0, 24, true},
		{[]int{2, 3, 4}, 24, 24, true},
		{[]int{2, 3, 4}, 23, 0, false},
		{[]int{0, 5, 7}, 0, 0, true},
		{[]int{0, 1 << 62, 1 << 62}, 0, 0, false},
		{[]int{0, 1 << 29}, 1 << 20, 0, false},
		{[]int{1 << 62, 4}, 0, 0, false},
		{[]int{1 << 31}, 0, 0, false},
		{[]int{3, -1}, 0, 0, false},
		{nil, 0, 1, true},
	} {
		got, err := SafeNumel(test.shape, test.limit)
		if got != test.want || (err == nil) != test.ok {
			t.Errorf("SafeNumel(%v, %d) = %d, %v; want %d, ok %v", test.shape, test.limit, got, err, test.want, test.ok)
		}
	}
}
