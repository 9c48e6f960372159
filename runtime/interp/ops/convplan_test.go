package ops

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/runtime/interp/ops/internal/kernel"
)

// strategyCases are the windows every convolution strategy is checked on:
// each strategy runs the cases it takes.
var strategyCases = []convCase{
	{"cifar layer", attrs{"pads": []int64{1, 1, 1, 1}}, []int{3, 16, 16, 16}, []int{24, 16, 3, 3}, true, true},
	{"first layer", attrs{"pads": []int64{1, 1, 1, 1}}, []int{2, 3, 20, 20}, []int{32, 3, 3, 3}, true, false},
	{"mnist valid", nil, []int{3, 1, 28, 28}, []int{16, 1, 3, 3}, true, true},
	{"ragged rows and partial tile", nil, []int{2, 5, 13, 11}, []int{13, 5, 3, 3}, true, false},
	{"groups dilations", attrs{"group": 2, "dilations": []int64{2, 3}, "pads": []int64{2, 3, 1, 0}}, []int{2, 6, 12, 20}, []int{10, 3, 3, 3}, true, false},
	{"padding beyond the kernel", attrs{"pads": []int64{3, 1, 0, 4}}, []int{1, 3, 6, 5}, []int{9, 3, 2, 2}, true, false},
	{"strided", attrs{"strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{3, 4, 15, 14}, []int{8, 4, 3, 3}, true, true},
	{"strided uneven", attrs{"strides": []int64{2, 1}, "pads": []int64{0, 1, 1, 2}}, []int{2, 3, 9, 8}, []int{5, 3, 3, 2}, false, false},
	{"depthwise", attrs{"group": 9, "pads": []int64{1, 1, 1, 1}}, []int{2, 9, 17, 17}, []int{9, 1, 3, 3}, true, true},
	{"depthwise strided", attrs{"group": 6, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{3, 6, 13, 12}, []int{6, 1, 3, 3}, true, false},
	{"depthwise 5x5 dilated", attrs{"group": 4, "dilations": []int64{2, 1}, "pads": []int64{4, 2, 3, 1}}, []int{2, 4, 11, 9}, []int{4, 1, 5, 5}, false, true},
	{"depthwise 5x5 strided", attrs{"group": 5, "strides": []int64{2, 2}, "pads": []int64{2, 2, 2, 2}}, []int{2, 5, 15, 14}, []int{5, 1, 5, 5}, true, true},
	{"depthwise strided 2x3 uneven", attrs{"group": 3, "strides": []int64{2, 3}, "pads": []int64{0, 1, 1, 0}}, []int{2, 3, 11, 13}, []int{3, 1, 3, 3}, false, false},
	{"depthwise strided odd width", attrs{"group": 3, "strides": []int64{2, 2}, "pads": []int64{1, 0, 0, 2}}, []int{2, 3, 9, 11}, []int{3, 1, 3, 3}, true, false},
	{"depthwise long rows", attrs{"group": 4, "pads": []int64{2, 2, 2, 2}}, []int{2, 4, 9, 37}, []int{4, 1, 5, 5}, true, false},
	{"depthwise pads past the kernel", attrs{"group": 3, "pads": []int64{3, 4, 3, 2}}, []int{2, 3, 6, 8}, []int{3, 1, 3, 3}, true, true},
	{"depthwise strides 1 and 2", attrs{"group": 3, "strides": []int64{1, 2}, "pads": []int64{1, 1, 1, 1}}, []int{2, 3, 12, 14}, []int{3, 1, 3, 3}, true, true},
	{"stem patchify 2x2 s2 at 14x14", attrs{"strides": []int64{2, 2}}, []int{2, 3, 14, 14}, []int{12, 3, 2, 2}, true, true},
	{"depthwise stride above kernel", attrs{"group": 2, "strides": []int64{3, 3}}, []int{1, 2, 10, 11}, []int{2, 1, 2, 2}, false, false},
	{"1x1", nil, []int{2, 24, 5, 40}, []int{17, 24, 1, 1}, true, false},
	{"1x1 7x7, a pixel past the segments", nil, []int{3, 20, 7, 7}, []int{24, 20, 1, 1}, true, true},
	{"1x1 14x14, four pixels past the segments", nil, []int{2, 9, 14, 14}, []int{11, 9, 1, 1}, false, true},
	{"1x1 grouped", attrs{"group": 2}, []int{2, 10, 4, 5}, []int{34, 5, 1, 1}, true, false},
	// 1×1 on small planes with 128 channels or more (the pointwise
	// strategy's dW): channels not a multiple of 16, with and without a
	// bias and a Relu; padded and strided ones, which it does not take.
	{"1x1 small plane", nil, []int{3, 130, 7, 7}, []int{17, 130, 1, 1}, true, true},
	{"1x1 small plane plain", nil, []int{2, 144, 3, 5}, []int{33, 144, 1, 1}, false, false},
	{"1x1 small plane padded", attrs{"pads": []int64{0, 1, 1, 0}}, []int{2, 130, 4, 4}, []int{5, 130, 1, 1}, true, false},
	{"1x1 small plane strided", attrs{"strides": []int64{2, 2}}, []int{2, 130, 6, 6}, []int{5, 130, 1, 1}, true, false},
	// Squeeze-and-excitation: 1×1 on one pixel a sample (the batch
	// strategy), with a bias and a Relu and without either.
	{"squeeze-excite", nil, []int{5, 24, 1, 1}, []int{10, 24, 1, 1}, true, true},
	{"squeeze-excite plain", nil, []int{3, 7, 1, 1}, []int{13, 7, 1, 1}, false, false},
	{"squeeze-excite wide", nil, []int{3, 80, 1, 1}, []int{20, 80, 1, 1}, true, true},
	// Depthwise on small planes with 16 channels or more (the pixels
	// strategy): 3×3 and 5×5, strides 1 and 2, even and uneven pads, odd
	// planes, channels not a multiple of 16, batches of 1 and 3.
	{"depthwise pixels 3x3", attrs{"group": 20, "pads": []int64{1, 1, 1, 1}}, []int{3, 20, 7, 9}, []int{20, 1, 3, 3}, true, true},
	{"depthwise pixels 5x5", attrs{"group": 37, "pads": []int64{2, 2, 2, 2}}, []int{1, 37, 13, 11}, []int{37, 1, 5, 5}, true, false},
	{"depthwise pixels 5x5 uneven pads", attrs{"group": 16, "pads": []int64{1, 2, 3, 0}}, []int{3, 16, 5, 7}, []int{16, 1, 5, 5}, false, true},
	{"depthwise pixels 3x3 strided", attrs{"group": 33, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{3, 33, 13, 14}, []int{33, 1, 3, 3}, true, true},
	{"depthwise pixels 5x5 strided", attrs{"group": 48, "strides": []int64{2, 2}, "pads": []int64{2, 2, 2, 2}}, []int{1, 48, 11, 11}, []int{48, 1, 5, 5}, true, false},
	{"depthwise pixels strided from 28x28", attrs{"group": 16, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{2, 16, 28, 27}, []int{16, 1, 3, 3}, true, true},
	{"depthwise pixels dX alone", attrs{"group": 18, "pads": []int64{1, 1, 1, 1}}, []int{2, 18, 17, 19}, []int{18, 1, 3, 3}, true, true},
	{"depthwise pixels dilated", attrs{"group": 17, "dilations": []int64{2, 2}, "pads": []int64{2, 2, 2, 2}}, []int{2, 17, 9, 8}, []int{17, 1, 3, 3}, false, false},
	// Strided layers on an image's channels (the space-to-depth
	// strategy): MobileNet's 3×3 stem, ResNet's 7×7 one, a stride above
	// the kernel, uneven strides and pads, one channel and four, and a
	// plane wide enough for several blocks of segments.
	{"stem 3x3", attrs{"strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{2, 3, 30, 29}, []int{19, 3, 3, 3}, true, true},
	{"stem 7x7", attrs{"strides": []int64{2, 2}, "pads": []int64{3, 3, 3, 3}}, []int{1, 3, 23, 22}, []int{10, 3, 7, 7}, true, false},
	{"stem stride above kernel", attrs{"strides": []int64{3, 3}}, []int{2, 2, 11, 13}, []int{5, 2, 2, 2}, false, true},
	{"stem uneven", attrs{"strides": []int64{2, 3}, "pads": []int64{0, 2, 1, 0}}, []int{2, 1, 12, 17}, []int{7, 1, 3, 4}, true, false},
	{"stem wide", attrs{"strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{2, 4, 80, 96}, []int{33, 4, 3, 3}, true, true},
	{"stem one channel out", attrs{"strides": []int64{2, 2}, "pads": []int64{3, 3, 3, 3}}, []int{2, 3, 20, 19}, []int{1, 3, 7, 7}, true, false},
	{"stem stride 3", attrs{"strides": []int64{3, 3}, "pads": []int64{1, 1, 1, 1}}, []int{2, 1, 17, 16}, []int{6, 1, 3, 3}, false, true},
	// Small planes with many terms (the batch columns strategy's dW):
	// 3×3 at 7×7 and 1×1 of stride 2 into 3×3.
	{"3x3 small plane", attrs{"pads": []int64{1, 1, 1, 1}}, []int{3, 64, 7, 7}, []int{21, 64, 3, 3}, true, true},
	{"1x1 strided small plane", attrs{"strides": []int64{2, 2}}, []int{2, 520, 6, 5}, []int{9, 520, 1, 1}, true, false},
	{"1-D", attrs{"pads": []int64{2, 1}}, []int{3, 4, 37}, []int{11, 4, 5}, true, false},
}

// TestConvStrategies checks every registered convolution strategy against
// the reference, im2col with the matrix multiply (and col2im for dX), on
// every case it takes: its forward pass, and the gradients of the input
// and of the weights with the other parts the reference's, its scratch
// poisoned. Each strategy must take some case, or it goes untested.
func TestConvStrategies(t *testing.T) {
	ref := &convPlan{fwd: im2colConv{}, dx: col2imGrad{}, dw: im2colConv{}}
	for _, st := range convStrategies {
		t.Run(st.name, func(t *testing.T) {
			took := 0
			for _, test := range strategyCases {
				a, dy := strategyArgs(t, test)
				k := a.key()
				if st.forward != nil {
					if f := st.forward(k); f != nil {
						took++
						got, want := NewFloat(a.n, a.m, a.g.oh, a.g.ow), NewFloat(a.n, a.m, a.g.oh, a.g.ow)
						f.forward(poisoned(), a, got)
						ref.fwd.forward(&State{}, a, want)
						closeTo(t, test.name+": Y", got, want)
					}
				}
				y := NewFloat(a.n, a.m, a.g.oh, a.g.ow)
				ref.fwd.forward(&State{}, a, y)
				if a.relu {
					a.mask = newReluMask(kernel.Masks(a.kernels), y.Data)
				}
				for i, part := range []func(convKey) convGradient{st.inputGrad, st.weightGrad} {
					if part == nil || part(k) == nil {
						continue
					}
					took++
					plan := *ref
					if i == 0 {
						plan.dx = part(k)
					} else {
						plan.dw = part(k)
					}
					need := []bool{i == 0, i == 1, a.b != nil}
					got := convBackward(&State{Need: need, Buffers: poisoned().Buffers}, &plan, a, dy)
					want := convBackward(&State{Need: need}, ref, a, dy)
					closeTo(t, test.name+": "+[]string{"dX", "dW"}[i], got[i], want[i])
					if a.b != nil {
						closeTo(t, test.name+": dB", got[2], want[2])
					}
				}
			}
			if took == 0 {
				t.Errorf("%s took none of the cases", st.name)
			}
		})
	}
}

// poisoned returns a State whose scratch comes filled with NaN, so that a
// strategy reading scratch it has not written fails.
func poisoned() *State { return &State{Buffers: &Buffers{Poison: true}} }

// strategyArgs returns a case's checked arguments and a gradient for its
// output, zero where a fused Relu's output is near its kink.
func strategyArgs(t testing.TB, test convCase) (convArgs, *Tensor) {
	t.Helper()
	in := test.inputs(rand.New(rand.NewPCG(3, uint64(len(test.name)))))
	c := test.op(t, len(in)).(*conv)
	a, err := c.operands(in)
	if err != nil {
		t.Fatal(err)
	}
	a.kernels = true // the vector kernels, or their Go twins
	dy := randTensor(rand.New(rand.NewPCG(5, 6)), -1, 1, a.n, a.m, a.g.oh, a.g.ow)
	if a.relu {
		y := NewFloat(a.n, a.m, a.g.oh, a.g.ow)
		im2colConv{}.forward(&State{}, a, y)
		for i, v := range y.Data {
			if v < 1e-4 {
				dy.Data[i] = 0
			}
		}
	}
	return a, dy
}

// TestConvPlanner checks the planner's choices for windows whose
// strategies are known: im2col for a strided layer (space to depth where
// it has an image's few channels), the direct kernels
// for a unit-stride one where they run, the rows strategy for a
// depthwise layer at stride 1 or 2 (the depthwise strategy takes those
// off the kernels), and the pixels strategy for a depthwise layer's
// parts on 7×7 planes with many channels, and its dW on planes to 14×14.
func TestConvPlanner(t *testing.T) {
	for _, test := range []struct {
		name        string
		k           convKey
		fwd, dx, dw string
	}{
		{"strided", convKey{g: geom2d{c: 16, h: 15, w: 14, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, oh: 8, ow: 7}, group: 1, m: 8},
			"im2col", "im2col", "im2col"},
		{"strided stem", convKey{g: geom2d{c: 3, h: 224, w: 224, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, oh: 112, ow: 112}, group: 1, m: 32},
			"space to depth", "space to depth", "space to depth"},
		{"unit stride", convKey{g: geom2d{c: 16, h: 16, w: 16, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 16, ow: 16}, group: 1, m: 24},
			"direct", "direct", "direct"},
		{"3x3 at 7x7", convKey{g: geom2d{c: 512, h: 7, w: 7, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 7, ow: 7}, group: 1, m: 512},
			"direct", "direct", "batch columns"},
		{"3x3 at 7x7, few terms", convKey{g: geom2d{c: 32, h: 7, w: 7, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 7, ow: 7}, group: 1, m: 32},
			"direct", "direct", "im2col"},
		{"depthwise strided", convKey{g: geom2d{c: 1, h: 56, w: 56, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, oh: 28, ow: 28}, group: 96, m: 96},
			"rows", "rows", "rows"},
		{"1x1 at 7x7", convKey{g: geom2d{c: 192, h: 7, w: 7, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: 7, ow: 7}, group: 1, m: 1152},
			"direct", "direct", "pointwise"},
		{"1x1 at 14x14, few channels", convKey{g: geom2d{c: 64, h: 14, w: 14, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: 14, ow: 14}, group: 1, m: 384},
			"direct", "direct", "im2col"},
		{"squeeze-excite", convKey{g: geom2d{c: 240, h: 1, w: 1, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: 1, ow: 1}, group: 1, m: 960},
			"batch forward", "batch", "batch"},
		{"1x1 at 28x28", convKey{g: geom2d{c: 40, h: 28, w: 28, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: 28, ow: 28}, group: 1, m: 240},
			"direct", "direct", "direct"},
		{"depthwise", convKey{g: geom2d{c: 1, h: 56, w: 56, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2, dh: 1, dw: 1, oh: 56, ow: 56}, group: 144, m: 144},
			"rows", "rows", "rows"},
		{"depthwise mid plane", convKey{g: geom2d{c: 1, h: 28, w: 28, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 28, ow: 28}, group: 192, m: 192},
			"rows", "rows", "rows"},
		{"depthwise mid plane strided", convKey{g: geom2d{c: 1, h: 28, w: 28, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, oh: 14, ow: 14}, group: 192, m: 192},
			"rows", "rows", "pixels"},
		{"depthwise small plane", convKey{g: geom2d{c: 1, h: 14, w: 14, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2, dh: 1, dw: 1, oh: 14, ow: 14}, group: 672, m: 672},
			"rows", "rows", "pixels"},
		{"depthwise small plane strided", convKey{g: geom2d{c: 1, h: 14, w: 14, kh: 5, kw: 5, sh: 2, sw: 2, ph: 2, pw: 2, dh: 1, dw: 1, oh: 7, ow: 7}, group: 672, m: 672},
			"pixels", "rows", "pixels"},
		{"depthwise 7x7 plane", convKey{g: geom2d{c: 1, h: 7, w: 7, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 7, ow: 7}, group: 960, m: 960},
			"pixels", "pixels", "pixels"},
	} {
		test.k.kernels = true // the vector kernels, or their Go twins
		p := planConv(test.k)
		if p.fwdName != test.fwd || p.dxName != test.dx || p.dwName != test.dw {
			t.Errorf("%s: planned %s, %s, %s; want %s, %s, %s", test.name, p.fwdName, p.dxName, p.dwName, test.fwd, test.dx, test.dw)
		}
		if vector := test.fwd != "im2col"; p.fwdVector != vector {
			t.Errorf("%s: forward on %s, a vector strategy %v; want %v", test.name, p.fwdName, p.fwdVector, vector)
		}
		// Off the kernels no vector strategy takes the window.
		test.k.kernels = false
		if p := planConv(test.k); p.fwdVector {
			t.Errorf("%s without the kernels: forward on %s, a vector strategy", test.name, p.fwdName)
		}
	}
}

// TestBatchColumnsChunks checks the batch columns strategy's dW where the
// batch takes several chunks, the last one short, against im2col's.
func TestBatchColumnsChunks(t *testing.T) {
	test := convCase{"chunks", attrs{"pads": []int64{1, 1, 1, 1}}, []int{5, 64, 7, 7}, []int{11, 64, 3, 3}, true, false}
	a, dy := strategyArgs(t, test)
	ref := &convPlan{fwd: im2colConv{}, dx: col2imGrad{}, dw: im2colConv{}}
	need := []bool{false, true, true}
	want := convBackward(&State{Need: need}, ref, a, dy)
	for _, samples := range []int{1, 2, 5} {
		plan := *ref
		plan.dw = batchCols{floats: samples * 49 * 576}
		got := convBackward(&State{Need: need, Buffers: poisoned().Buffers}, &plan, a, dy)
		closeTo(t, fmt.Sprintf("chunks of %d: dW", samples), got[1], want[1])
		closeTo(t, fmt.Sprintf("chunks of %d: dB", samples), got[2], want[2])
	}
}

// TestPointwiseRestTaken checks that the 1×1 windows whose last segment
// is partial (convpointrest.go) take the split plan forward and for dX,
// so that TestConvStrategies' cases of them test it, and that windows
// without a partial segment, or whose partial segment is a row or more,
// do not.
func TestPointwiseRestTaken(t *testing.T) {
	for _, test := range []struct {
		h, w int
		take bool
	}{{7, 7, true}, {14, 14, true}, {10, 7, true}, {3, 11, true}, {8, 8, false}, {4, 4, false}, {9, 4, false}, {28, 28, false}} {
		g := geom2d{c: 20, h: test.h, w: test.w, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: test.h, ow: test.w}
		r, ok := pointwiseRest(g, 1)
		if ok != test.take {
			t.Errorf("%dx%d: rest %v, want %v", test.h, test.w, ok, test.take)
			continue
		}
		if !ok {
			continue
		}
		s := &State{Buffers: &Buffers{}}
		w := make([]float32, 24*20)
		p := restPlan(s, r, g, w, nil, 24, false)
		if p == nil {
			t.Errorf("%dx%d: no plan stops at pixel %d", test.h, test.w, r.start)
			continue
		}
		last := p.segs[len(p.segs)-1]
		if end := int(last.X/4) + bits.Len64(uint64(last.Mask)); end != r.start {
			t.Errorf("%dx%d: the plan's segments end at pixel %d, the rest starts at %d", test.h, test.w, end, r.start)
		}
		p.release(s)
	}
}

// TestThroughAt checks that convArgs.throughAt, one element of dY
// through a fused Relu's or Clip's mask or a gate's slope, gives what
// through gives for the whole of dY, on the vector kernels and off them.
func TestThroughAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := 3*64 + 17
	dy, y, slope := randTensor(rng, -1, 1, n), randTensor(rng, -1, 1, n), randTensor(rng, -1, 1, n)
	for _, kernels := range []bool{true, false} {
		for _, a := range []convArgs{
			{kernels: kernels, mask: newReluMask(kernel.Masks(kernels), y.Data)},
			{kernels: kernels, gated: slope},
			{kernels: kernels},
		} {
			want := a.through(make([]float32, n), dy.Data, 0, n)
			for i, v := range dy.Data {
				if got := a.throughAt(i, v); got != want[i] {
					t.Fatalf("kernels %v, mask %v, gated %v: element %d: throughAt %v, through %v", kernels, a.mask != nil, a.gated != nil, i, got, want[i])
				}
			}
		}
	}
}
