package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestNewOpsNeverPanic feeds the operators added for opset 17 and
// quantized models inputs of every small rank and size, empty ones, scalars,
// integers where floats belong and the reverse, with odd attributes: each
// must return a value or an error, never panic, forward or backward.
func TestNewOpsNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 1))
	shapes := [][]int{nil, {0}, {1}, {3}, {2, 0}, {2, 3}, {3, 3}, {1, 2, 3}, {2, 1, 3, 2}, {1, 2, 3, 3}}
	tensor := func() *Tensor {
		if rng.IntN(8) == 0 {
			return nil
		}
		shape := shapes[rng.IntN(len(shapes))]
		if rng.IntN(3) == 0 {
			v := make([]int64, Numel(shape))
			for i := range v {
				v[i] = int64(rng.IntN(7) - 3)
			}
			return NewInts(append([]int(nil), shape...), v)
		}
		return randTensor(rng, -3, 3, append([]int(nil), shape...)...)
	}
	for _, test := range []struct {
		op    string
		opset int64
		attrs []attrs
		nIn   int
	}{
		{"LayerNormalization", 17, []attrs{nil, {"axis": 0}, {"axis": -1}, {"axis": 3}}, 3},
		{"Einsum", 12, []attrs{{"equation": "ij,jk->ik"}, {"equation": "i,i"}, {"equation": "...j,...j->..."}}, 2},
		{"Einsum", 12, []attrs{{"equation": "...ii->...i"}, {"equation": "ij"}, {"equation": "ii"}}, 1},
		{"GatherElements", 13, []attrs{nil, {"axis": 1}, {"axis": -2}}, 2},
		{"GatherND", 13, []attrs{nil, {"batch_dims": 1}}, 2},
		{"ScatterElements", 18, []attrs{nil, {"axis": 1, "reduction": "mul"}, {"reduction": "max"}}, 3},
		{"ScatterND", 18, []attrs{nil, {"reduction": "add"}, {"reduction": "min"}}, 3},
		{"TopK", 11, []attrs{nil, {"axis": 0, "largest": 0}}, 2},
		{"CumSum", 14, []attrs{nil, {"exclusive": 1, "reverse": 1}}, 2},
		{"Trilu", 14, []attrs{nil, {"upper": 0}}, 2},
		{"OneHot", 11, []attrs{nil, {"axis": 0}}, 3},
		{"Mod", 13, []attrs{nil, {"fmod": 1}}, 2},
		{"Hardmax", 13, []attrs{nil, {"axis": 0}}, 1},
		{"Hardmax", 11, []attrs{nil, {"axis": 2}}, 1},
		{"GridSample", 16, []attrs{nil, {"mode": "bicubic", "padding_mode": "reflection"}, {"mode": "nearest", "align_corners": 1}}, 2},
		{"QuantizeLinear", 13, []attrs{nil, {"axis": 0}}, 3},
		{"DequantizeLinear", 13, []attrs{nil, {"axis": -1}}, 3},
		{"DynamicQuantizeLinear", 11, []attrs{nil}, 1},
		{"MatMulInteger", 10, []attrs{nil}, 4},
		{"ConvInteger", 10, []attrs{nil, {"pads": []int64{1, 1, 1, 1}}}, 4},
		{"QLinearConv", 10, []attrs{nil}, 9},
		{"QLinearMatMul", 10, []attrs{nil}, 8},
		{"ReduceLogSumExp", 18, []attrs{nil, {"keepdims": 0}}, 2},
		{"ReduceL1", 13, []attrs{nil, {"axes": []int64{1}}}, 1},
		{"ArgMin", 13, []attrs{nil, {"axis": 1, "keepdims": 0}}, 1},
		{"CastLike", 15, []attrs{nil}, 2},
		{"ReduceProd", 18, []attrs{nil, {"noop_with_empty_axes": 1}}, 2},
		{"MeanVarianceNormalization", 13, []attrs{nil, {"axes": []int64{1}}}, 1},
	} {
		for _, a := range test.attrs {
			op := newOp(t, test.op, a, test.opset, test.nIn, 3)
			for try := 0; try < 300; try++ {
				in := make([]*Tensor, test.nIn)
				for i := range in {
					in[i] = tensor()
				}
				if err := noPanic(op, in, rng); err != nil {
					t.Errorf("%s %v on %v: %v", test.op, a, in, err)
					break
				}
			}
		}
	}
}

// noPanic runs op forward and, where that succeeds, backward with random
// output gradients, turning a panic into an error.
func noPanic(op Op, in []*Tensor, rng *rand.Rand) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	s := &State{Grad: true}
	outs, ferr := op.Forward(s, in)
	if ferr != nil {
		return nil
	}
	dy := make([]*Tensor, len(outs))
	for i, o := range outs {
		if o != nil {
			dy[i] = randTensor(rng, -1, 1, o.Shape...)
		}
	}
	_, _ = op.Backward(s, dy)
	return nil
}
