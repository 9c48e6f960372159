package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestConvPool runs Conv (with and without its Relu) and a 2×2 MaxPool
// fused and apart, forward in both modes and backward, and compares: the
// pooled output must be the same bit for bit, the gradients equal up to
// the order of float sums. The shapes cover a row plan, a wide plan whose
// gradient into a one-channel input takes the one-channel kernel, odd
// sizes the pool leaves a row and a column of (which the fused Conv then
// does not compute) in a wide plan and in rows, groups, no bias, and
// padding wider than the kernel, which crops the gradient's padded layout;
// and, for layers of 16 input channels or more, the sparse backward
// (sparsegrad.go) with a partial block of channels, dilation, uneven
// padding and a 5×5 kernel.
func TestConvPool(t *testing.T) {
	tests := []convCase{
		{"cifar-like rows", attrs{"pads": []int64{1, 1, 1, 1}}, []int{3, 8, 16, 16}, []int{24, 8, 3, 3}, true, true},
		{"mnist-like wide", nil, []int{2, 1, 28, 28}, []int{16, 1, 3, 3}, true, true},
		{"odd sizes", nil, []int{2, 5, 13, 11}, []int{10, 5, 3, 3}, true, true},
		{"odd sizes in rows", attrs{"pads": []int64{1, 1, 1, 1}}, []int{2, 3, 31, 15}, []int{4, 3, 3, 3}, true, true},
		{"groups", attrs{"group": 2, "pads": []int64{1, 1, 1, 1}}, []int{2, 6, 12, 12}, []int{8, 3, 3, 3}, true, true},
		{"no relu, no bias", attrs{"pads": []int64{1, 1, 1, 1}}, []int{2, 4, 10, 10}, []int{9, 4, 3, 3}, false, false},
		{"padding beyond the kernel's reach", attrs{"pads": []int64{3, 3, 3, 3}}, []int{2, 2, 6, 6}, []int{4, 2, 3, 3}, true, true},
		// Kernels one column wide: the flipped plan of dX is a straight
		// wide one (directPlan.straighten), storing into dX itself.
		{"1x1, odd width", nil, []int{2, 3, 10, 7}, []int{5, 3, 1, 1}, true, true},
		{"3x1, rows padded", attrs{"pads": []int64{1, 0, 1, 0}}, []int{2, 4, 8, 9}, []int{6, 4, 3, 1}, true, false},
		// 16 input channels and more take the sparse backward (sparsePool).
		{"sparse, a partial block of channels, odd sizes", nil, []int{2, 20, 9, 11}, []int{6, 20, 3, 3}, true, true},
		{"sparse, dilated, uneven pads", attrs{"pads": []int64{2, 1, 0, 1}, "dilations": []int64{2, 2}}, []int{3, 32, 12, 10}, []int{8, 32, 3, 3}, true, true},
		{"sparse, 5×5, no relu, no bias", attrs{"pads": []int64{2, 2, 2, 2}}, []int{3, 16, 10, 10}, []int{5, 16, 5, 5}, false, false},
		{"sparse, cifar-like rows", attrs{"pads": []int64{1, 1, 1, 1}}, []int{3, 16, 16, 16}, []int{24, 16, 3, 3}, true, true},
		{"sparse, mnist-like wide", nil, []int{5, 16, 13, 13}, []int{32, 16, 3, 3}, true, true},
	}
	pool := attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			in := test.inputs(rand.New(rand.NewPCG(9, uint64(len(test.name)))))
			conv := test.op(t, len(in))
			mp := newOp(t, "MaxPool", pool, 13, 1, 1)
			fused, ok := fusePool(conv, mp, test.x, test.w, true)
			if !ok {
				t.Fatal("fusePool refused the pair")
			}
			cp := fused.(*convPool)
			g, err := cp.c.geometry(append([]int{1}, test.x[1:]...), test.w, false)
			if err != nil {
				t.Fatal(err)
			}
			if sparse := strings.HasPrefix(test.name, "sparse"); sparse != (sparseFor(g, cp.c.group, test.w[0]) != nil) {
				t.Fatalf("the case's name says sparse %v, the backward takes the other path", sparse)
			}

			want, dy, wantGrads := convThenPool(t, conv, mp, in)

			// Fused, inference then training.
			inf, err := fused.Forward(&State{Kernels: true}, in)
			if err != nil {
				t.Fatal(err)
			}
			sf := &State{Grad: true, Kernels: true}
			got, err := fused.Forward(sf, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range []*Tensor{inf[0], got[0]} {
				if !slices.Equal(o.Shape, want[0].Shape) || !slices.Equal(o.Data, want[0].Data) {
					t.Fatalf("pooled output differs from the separate ops'")
				}
			}
			// Every gradient, then the input's alone (an attack), then the
			// weights' alone (a network's first layer in training).
			for _, need := range [][]bool{nil, {true, false, false}, {false, true, true}} {
				sf.Need = need
				grads, err := fused.Backward(sf, []*Tensor{dy})
				if err != nil {
					t.Fatal(err)
				}
				for i, g := range wantGrads {
					if g == nil || (need != nil && !need[i]) {
						continue
					}
					closeTo(t, fmt.Sprintf("need %v: d input %d", need, i), grads[i], g)
				}
			}
		})
	}
}

// convThenPool runs conv and then the pool mp apart, forward and
// backward from a random gradient dy at the pooled output: it returns the
// pooled output, dy and the Conv's inputs' gradients.
func convThenPool(t *testing.T, conv, mp Op, in []*Tensor) ([]*Tensor, *Tensor, []*Tensor) {
	t.Helper()
	sc, sp := &State{Grad: true, Kernels: true}, &State{Grad: true, Kernels: true}
	y, err := conv.Forward(sc, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := mp.Forward(sp, y)
	if err != nil {
		t.Fatal(err)
	}
	dy := randTensor(rand.New(rand.NewPCG(3, 4)), -1, 1, want[0].Shape...)
	dconv, err := mp.Backward(sp, []*Tensor{dy})
	if err != nil {
		t.Fatal(err)
	}
	wantGrads, err := conv.Backward(sc, dconv)
	if err != nil {
		t.Fatal(err)
	}
	return want, dy, wantGrads
}
