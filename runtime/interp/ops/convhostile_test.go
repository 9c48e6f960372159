package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDepthwisePlansStayBounded plans depthwise windows with a small output
// but pads, dilations and strides in the thousands (a hostile file's):
// planning must not allocate for the size of the padded grid (the pixels
// strategy) or for the number of stride phases (the phases strategy),
// while the same layer at sane sizes stays on the vector kernels.
func TestDepthwisePlansStayBounded(t *testing.T) {
	for _, test := range []struct {
		p, d, s        int64
		pixels, phases bool // whether each may take the window
	}{
		{1, 1, 1, true, true},
		{1, 1, 2, true, true},
		{1000, 1995, 1, false, true}, // output 6×6, a grid of 2001×2001 pixels
		{30000, 30000, 60000, false, false},
	} {
		c := convCase{"wide", attrs{"group": 16, "pads": []int64{test.p, test.p, test.p, test.p},
			"dilations": []int64{test.d, test.d}, "strides": []int64{test.s, test.s}},
			[]int{1, 16, 1, 1}, []int{16, 1, 2, 2}, false, false}
		a, _ := strategyArgs(t, c)
		p := planConv(a.key())
		for _, name := range []string{p.fwdName, p.dxName, p.dwName} {
			if name == "pixels" && !test.pixels || name == "phases" && !test.phases {
				t.Errorf("pads %d, dilations %d, strides %d (output %d×%d): planned %s, %s, %s", test.p, test.d, test.s, a.g.oh, a.g.ow, p.fwdName, p.dxName, p.dwName)
				break
			}
		}
		if test.pixels && !p.fwdVector {
			t.Errorf("pads %d, dilations %d, strides %d: forward on %s, off the vector kernels", test.p, test.d, test.s, p.fwdName)
		}
	}
}

// TestEmptyWindowsOnKernels runs convolutions whose windows hold nothing
// (no input channels, no output channels, a kernel of height 0: a hostile
// file's), strided and not, forward and backward on the vector kernels:
// no strategy may index into an empty term list.
func TestEmptyWindowsOnKernels(t *testing.T) {
	for _, c := range []convCase{
		{"no input channels, strided", attrs{"strides": []int64{2, 2}}, []int{1, 0, 8, 8}, []int{4, 0, 3, 3}, true, false},
		{"no output channels, strided", attrs{"strides": []int64{2, 2}}, []int{1, 3, 8, 8}, []int{0, 3, 3, 3}, false, false},
		{"kernel of height 0, strided", attrs{"strides": []int64{2, 2}}, []int{1, 3, 8, 8}, []int{4, 3, 0, 3}, false, false},
		{"no input channels", nil, []int{1, 0, 8, 8}, []int{4, 0, 3, 3}, true, true},
		{"no output channels", nil, []int{1, 3, 8, 8}, []int{0, 3, 3, 3}, false, false},
		{"depthwise kernel of width 0", attrs{"group": 4}, []int{1, 4, 8, 8}, []int{4, 1, 3, 0}, false, false},
		{"depthwise kernel of height 0, strided", attrs{"group": 4, "strides": []int64{2, 2}}, []int{1, 4, 8, 8}, []int{4, 1, 0, 3}, false, false},
		{"an empty batch, 1x1 at 7x7", nil, []int{0, 20, 7, 7}, []int{24, 20, 1, 1}, true, true},
		{"an empty batch, depthwise", attrs{"group": 4, "pads": []int64{1, 1, 1, 1}}, []int{0, 4, 14, 14}, []int{4, 1, 3, 3}, true, true},
	} {
		in := c.inputs(rand.New(rand.NewPCG(1, 2)))
		op := c.op(t, len(in))
		s := &State{Grad: true, Kernels: true, Buffers: &Buffers{}}
		outs, err := op.Forward(s, in)
		if err != nil {
			continue // refused with an error: as good as running
		}
		if _, err := op.Backward(s, []*Tensor{nnOnes(outs[0])}); err != nil {
			t.Logf("%s: backward refused: %v", c.name, err)
		}
	}
}

// TestSpaceToDepthReadsOnlyTheWindow puts an infinity in the last row of
// an 8×8 image, which a 3×3 stride-2 window without padding never reads:
// the space-to-depth strategy, whose phase planes hold that row, must
// give im2col's finite output, its terms the window's taps alone.
func TestSpaceToDepthReadsOnlyTheWindow(t *testing.T) {
	c := convCase{"inf outside", attrs{"strides": []int64{2, 2}}, []int{1, 3, 8, 8}, []int{5, 3, 3, 3}, true, false}
	a, _ := strategyArgs(t, c)
	for ch := range 3 {
		a.x.Data[(ch*8+7)*8+3] = float32(math.Inf(1))
	}
	sp := spaceFor(func(p spacePlan) convForward { return spaceConv{p} })(a.key())
	if sp == nil {
		t.Fatal("the space-to-depth strategy does not take a 3-channel 3×3 stride-2 window")
	}
	got, want := NewFloat(a.n, a.m, a.g.oh, a.g.ow), NewFloat(a.n, a.m, a.g.oh, a.g.ow)
	sp.forward(&State{Buffers: &Buffers{}}, a, got)
	im2colConv{}.forward(&State{}, a, want)
	for i, v := range got.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("Y[%d] = %v: a term read the row the window does not", i, v)
		}
	}
	closeTo(t, "Y", got, want)
}

// TestRowsPlansStayBounded plans depthwise windows whose pads run to the
// executor's limit (a hostile file's), at strides 1 and 2, the pads on
// rows or on columns: planning must neither panic (the transposed layout
// keeps a column offset in 16 bits) nor allocate a run per output row of
// padding (rows whose kernel lies wholly in the padding are one run).
func TestRowsPlansStayBounded(t *testing.T) {
	for _, test := range []struct {
		pads    []int64
		strides []int64
	}{
		{[]int64{0, 5000, 0, 5000}, []int64{2, 2}},
		{[]int64{1 << 20, 0, 1 << 20, 0}, []int64{1, 1}},
		{[]int64{1 << 20, 0, 1 << 20, 0}, []int64{2, 2}},
		{[]int64{3000, 3000, 3000, 3000}, []int64{1, 1}},
	} {
		c := convCase{"padded", attrs{"group": 2, "pads": test.pads, "strides": test.strides}, []int{1, 2, 8, 8}, []int{2, 1, 3, 1}, false, false}
		a, err := c.op(t, 2).(*conv).operands(c.inputs(rand.New(rand.NewPCG(1, 2))))
		if err != nil {
			t.Fatal(err)
		}
		a.kernels = true
		p := planConv(a.key())
		if st, ok := p.fwd.(rowsConv); ok && len(st.p.runs.Spec()) > 8 {
			t.Errorf("pads %v, strides %v: %d runs for %d output rows", test.pads, test.strides, len(st.p.runs.Spec()), a.g.oh)
		}
	}
}
