package ops

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, test := range []struct {
		name  string
		op    string
		attrs attrs
		in    func() []*Tensor
		nIn   int
	}{
		{"relu", "Relu", nil, func() []*Tensor { return []*Tensor{awayFrom(randTensor(rng, -1, 1, 2, 3, 4), 0.05, 0)} }, 1},
		{"add broadcast", "Add", nil, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 3, 4), randTensor(rng, -1, 1, 3, 1)}
		}, 2},
		{"conv", "Conv", attrs{"pads": []int64{1, 1, 1, 1}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 3, 5, 5), randTensor(rng, -1, 1, 4, 3, 3, 3), randTensor(rng, -1, 1, 4)}
		}, 3},
		{"conv groups strides dilations", "Conv", attrs{"group": 2, "strides": []int64{2, 1}, "dilations": []int64{1, 2}, "pads": []int64{0, 1, 1, 2}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 4, 6, 7), randTensor(rng, -1, 1, 6, 2, 3, 2)}
		}, 2},
		{"conv depthwise same", "Conv", attrs{"group": 3, "auto_pad": "SAME_UPPER", "strides": []int64{2, 2}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 1, 3, 6, 6), randTensor(rng, -1, 1, 3, 1, 3, 3), randTensor(rng, -1, 1, 3)}
		}, 3},
		{"conv 1d", "Conv", attrs{"pads": []int64{1, 0}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 2, 7), randTensor(rng, -1, 1, 3, 2, 3)}
		}, 2},
	} {
		gradCheck(t, test.name, newOp(t, test.op, test.attrs, 13, test.nIn, 1), test.in())
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(makeNode(t, "FancyOp", nil, 1, 1), 13, ""); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown op: got %v, want ErrUnsupported", err)
	}
	if _, err := New(makeNode(t, "Conv", attrs{"auto_pad": "SIDEWAYS"}, 2, 1), 13, ""); err == nil {
		t.Error("bad auto_pad: got no error")
	}
}
