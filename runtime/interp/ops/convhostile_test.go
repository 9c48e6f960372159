package ops

import "testing"

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
