package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// TestDirectConv runs convolutions on the direct kernel and on im2col
// with the matrix multiply, forward and backward, and compares. The shapes
// reach what the kernel's tiling has to get right: several tiles of 8
// channels with a partial last one, rows of 16 pixels and ragged ones,
// segment groups that end part-way, groups, dilations, asymmetric and
// oversized padding, a fused Relu and 1-D inputs.
func TestDirectConv(t *testing.T) {
	tests := []convCase{
		{"cifar layer", attrs{"pads": []int64{1, 1, 1, 1}}, []int{3, 32, 32, 32}, []int{64, 32, 3, 3}, true, true},
		{"first layer", attrs{"pads": []int64{1, 1, 1, 1}}, []int{2, 3, 32, 32}, []int{32, 3, 3, 3}, true, false},
		{"mnist valid", nil, []int{3, 1, 28, 28}, []int{16, 1, 3, 3}, true, true},
		{"ragged rows and partial tile", nil, []int{2, 5, 13, 11}, []int{13, 5, 3, 3}, true, false},
		{"one channel", attrs{"pads": []int64{0, 2, 1, 0}}, []int{2, 4, 7, 19}, []int{1, 4, 2, 3}, false, true},
		{"groups dilations", attrs{"group": 2, "dilations": []int64{2, 3}, "pads": []int64{2, 3, 1, 0}}, []int{2, 6, 12, 20}, []int{10, 3, 3, 3}, true, false},
		{"depthwise", attrs{"group": 9, "pads": []int64{1, 1, 1, 1}}, []int{2, 9, 17, 17}, []int{9, 1, 3, 3}, true, true},
		{"padding beyond the kernel", attrs{"pads": []int64{3, 1, 0, 4}}, []int{1, 3, 6, 5}, []int{9, 3, 2, 2}, true, false},
		{"1x1", nil, []int{2, 24, 5, 40}, []int{17, 24, 1, 1}, true, false},
		{"unpadded rows in place", nil, []int{2, 8, 34, 34}, []int{16, 8, 3, 3}, true, true},
		{"1-D", attrs{"pads": []int64{2, 1}}, []int{3, 4, 37}, []int{11, 4, 5}, true, false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			in := test.inputs(rand.New(rand.NewPCG(3, uint64(len(test.name)))))
			run := func(direct bool) ([]*Tensor, []*Tensor) {
				op := test.op(t, len(in))
				s := &State{Grad: true, Kernels: direct}
				y, err := op.Forward(s, in)
				if err != nil {
					t.Fatal(err)
				}
				// dY is zero where Relu's output is near its kink, where
				// the two paths' rounding could disagree on the mask.
				dy := randTensor(rand.New(rand.NewPCG(5, 6)), -1, 1, y[0].Shape...)
				for i, v := range y[0].Data {
					if test.relu && v < 1e-4 {
						dy.Data[i] = 0
					}
				}
				grads, err := op.Backward(s, []*Tensor{dy})
				if err != nil {
					t.Fatal(err)
				}
				return y, grads
			}
			y, grads := run(true)
			wantY, wantGrads := run(false)
			closeTo(t, "Y", y[0], wantY[0])
			for i, g := range wantGrads {
				closeTo(t, fmt.Sprintf("d input %d", i), grads[i], g)
			}
		})
	}
}

// The direct kernel on one sample of the CIFAR benchmark model's layers, on
// one core, in GFLOP/s to set beside the matrix multiply's.
func BenchmarkDirectConv32x32x32(b *testing.B) { benchmarkDirect(b, 32, 32, 32) }
func BenchmarkDirectConv64x64x16(b *testing.B) { benchmarkDirect(b, 64, 64, 16) }

func benchmarkDirect(b *testing.B, cin, cout, size int) {
	if !kernel.Available {
		b.Skip("no direct convolution assembly on this CPU")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	g := geom2d{c: cin, h: size, w: size, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: size, ow: size}
	w, bias := randSlice(rng, cout*cin*9), randSlice(rng, cout)
	x, y := randSlice(rng, cin*size*size), make([]float32, cout*size*size)
	s := &State{}
	plan := planDirect(s, g, w, bias, cout, 1, true)
	padded := make([]float32, plan.scratchLen())
	for b.Loop() {
		plan.run(y, x, padded, 0)
	}
	b.ReportMetric(2*float64(cout*cin*9*size*size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestDirectPlan checks which layout and tiles planDirect picks for the benchmark
// models' layers, so that TestDirectConv's shapes (the same geometries)
// are known to cover each: rows for 32- and 16-wide outputs, wide for
// MNIST's 26- and 11-wide ones, the one-channel kernel for a single
// channel in a wide plan, and unpadded plans reading in place unless the
// one-channel kernel (which reads past the image) runs.
func TestDirectPlan(t *testing.T) {
	valid := func(c, size, k int) geom2d {
		o := size - k + 1
		return geom2d{c: c, h: size, w: size, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, oh: o, ow: o}
	}
	same := func(c, size int) geom2d {
		g := valid(c, size, 3)
		g.ph, g.pw, g.oh, g.ow = 1, 1, size, size
		return g
	}
	tests := []struct {
		name          string
		g             geom2d
		m             int
		wide, inPlace bool
		run1          bool
		main          kernel.Shape // the first tile's
	}{
		{"cifar 32", same(32, 32), 32, false, false, false, kernel.Tall},
		{"cifar 16", same(64, 16), 64, false, false, false, kernel.Broad},
		{"mnist conv1", valid(1, 28, 3), 16, true, true, false, kernel.Tall},
		{"mnist conv2", valid(16, 13, 3), 32, true, true, false, kernel.Tall},
		{"mnist conv1 dX", valid(16, 30, 3), 1, true, false, true, kernel.Run1},
		{"unpadded 32", valid(8, 34, 3), 8, false, true, false, kernel.Tall},
	}
	s := &State{}
	for _, test := range tests {
		w := make([]float32, test.m*test.g.colRows())
		p := planDirect(s, test.g, w, nil, test.m, 1, false)
		run1 := false
		for _, tl := range p.tiles {
			run1 = run1 || tl.Shape == kernel.Run1
		}
		if p.wide != test.wide || p.inPlace != test.inPlace || run1 != test.run1 || p.tiles[0].Shape != test.main {
			t.Errorf("%s: wide %v, in place %v, one-channel kernel %v, tiles of %v; want %v, %v, %v, %v",
				test.name, p.wide, p.inPlace, run1, p.tiles[0].Shape, test.wide, test.inPlace, test.run1, test.main)
		}
	}

	// Fused with a 2×2 pool, MNIST's second layer computes the 10×10 the
	// pool reads of its 11×11 output, on the same padded image read in
	// place: (9·13 + 10) / 16 rounded up is 8 segments, against 9.
	g := valid(16, 13, 3)
	w := make([]float32, 32*g.colRows())
	full, part := planDirect(s, g, w, nil, 32, 1, true), planDirectPart(s, g, 10, 10, w, nil, 32, 1, true)
	if len(full.segs) != 9 || len(part.segs) != 8 || !part.wide || !part.inPlace || part.wp != 13 {
		t.Errorf("mnist conv2: %d segments, %d for the pooled part (wide %v, in place %v, padded width %d); want 9, 8 (true, true, 13)",
			len(full.segs), len(part.segs), part.wide, part.inPlace, part.wp)
	}
}
