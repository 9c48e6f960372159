package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBuffersOverwrite runs the ops that take unzeroed storage from
// Buffers on storage poisoned with NaN, twice so that the second run reuses
// the first run's scratch, and checks that outputs and gradients equal
// those computed on fresh storage: every element they leave unzeroed, they
// write; on the portable paths and the vector kernels'.
func TestBuffersOverwrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	r := func(shape ...int) *Tensor { return randTensor(rng, -1, 1, shape...) }
	convRelu, _ := fuseRelu(newOp(t, "Conv", attrs{"pads": []int64{1, 1, 1, 1}}, 13, 3, 1))
	for _, test := range []struct {
		name string
		op   Op
		in   []*Tensor
	}{
		{"conv flipped dX", newOp(t, "Conv", attrs{"pads": []int64{1, 1, 1, 1}}, 13, 3, 1), []*Tensor{r(3, 4, 5, 5), r(4, 4, 3, 3), r(4)}},
		{"conv col2im dX", newOp(t, "Conv", attrs{"strides": []int64{2, 2}, "group": 2}, 13, 2, 1), []*Tensor{r(3, 2, 7, 6), r(6, 1, 3, 3)}},
		{"conv first layer", newOp(t, "Conv", nil, 13, 3, 1), []*Tensor{r(3, 1, 6, 6), r(8, 1, 3, 3), r(8)}},
		{"conv relu", convRelu, []*Tensor{r(3, 2, 5, 5), r(3, 2, 3, 3), r(3)}},
		{"relu", newOp(t, "Relu", nil, 13, 1, 1), []*Tensor{r(2, 3, 4)}},
		{"maxpool 2x2", newOp(t, "MaxPool", attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, 13, 1, 1), []*Tensor{r(2, 3, 6, 6)}},
		{"maxpool 2x2 odd sizes", newOp(t, "MaxPool", attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, 13, 1, 1), []*Tensor{r(2, 3, 7, 5)}},
		{"maxpool padded", newOp(t, "MaxPool", attrs{"kernel_shape": []int64{3, 3}, "pads": []int64{1, 1, 1, 1}}, 13, 1, 1), []*Tensor{r(2, 3, 5, 4)}},
		{"gemm", newOp(t, "Gemm", attrs{"transB": 1, "beta": 0.5}, 13, 3, 1), []*Tensor{r(3, 4), r(5, 4), r(5)}},
		{"gemm no C", newOp(t, "Gemm", attrs{"transA": 1}, 13, 2, 1), []*Tensor{r(4, 3), r(4, 5)}},
	} {
		run := func(b *Buffers, kernels bool) ([]*Tensor, []*Tensor) {
			s := &State{Grad: true, Kernels: kernels, Buffers: b}
			y := forwardNN(t, test.op, s, test.in...)
			dy := randTensor(rand.New(rand.NewPCG(1, 1)), -1, 1, y[0].Shape...)
			g, err := test.op.Backward(s, []*Tensor{dy})
			if err != nil {
				t.Fatalf("%s: %v", test.name, err)
			}
			return y, g
		}
		for _, kernels := range []bool{false, true} {
			wantY, wantG := run(nil, kernels)
			b := &Buffers{Poison: true}
			for try := range 2 {
				b.NextRun()
				y, g := run(b, kernels)
				if !slices.Equal(y[0].Data, wantY[0].Data) {
					t.Errorf("%s, kernels %v, run %d: output on recycled storage differs: %v, want %v", test.name, kernels, try, y[0].Data, wantY[0].Data)
				}
				for i := range wantG {
					if !slices.Equal(g[i].Data, wantG[i].Data) {
						t.Errorf("%s, kernels %v, run %d: gradient %d on recycled storage differs", test.name, kernels, try, i)
					}
				}
				for _, v := range append(y, g...) {
					b.Put(v.Data)
				}
			}
		}
	}
}
