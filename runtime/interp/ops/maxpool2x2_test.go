package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMaxPoolKernels checks the 2×2 kernels against the general loop
// (windowMax) on the windows they take, floats and integers, with and
// without winners, even and odd sizes (a last row and column left out);
// and that the planner picks them there and the loop elsewhere.
func TestMaxPoolKernels(t *testing.T) {
	kernels := []maxPoolKernel{halves{}, vectorHalves{}} // the vector kernels, or their Go twins
	for _, size := range [][2]int{{8, 8}, {9, 7}, {2, 34}, {33, 17}} {
		h, w := size[0], size[1]
		g := poolGeom{geom2d: geom2d{c: 1, h: h, w: w, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, oh: h / 2, ow: w / 2}, planes: 3}
		if _, ok := planMaxPool(g, true).(windowMax); ok {
			t.Errorf("%dx%d: the planner picked the general loop for a 2×2 window", h, w)
		}
		rng := rand.New(rand.NewPCG(uint64(h), uint64(w)))
		x, xi := make([]float32, 3*h*w), make([]int64, 3*h*w)
		for i := range x {
			x[i], xi[i] = rng.Float32()-0.5, int64(rng.IntN(5)) // ties among the integers
		}
		n := 3 * g.oh * g.ow
		want, wantArg, wantI, wantIArg := make([]float32, n), make([]int32, n), make([]int64, n), make([]int32, n)
		windowMax{}.floats(want, wantArg, x, g)
		windowMax{}.ints(wantI, wantIArg, xi, g)
		for _, k := range kernels {
			name := fmt.Sprintf("%T %dx%d", k, h, w)
			got, arg, gotI, argI, noArg := make([]float32, n), make([]int32, n), make([]int64, n), make([]int32, n), make([]float32, n)
			k.floats(got, arg, x, g)
			k.floats(noArg, nil, x, g)
			k.ints(gotI, argI, xi, g)
			if !slices.Equal(got, want) || !slices.Equal(arg, wantArg) || !slices.Equal(noArg, want) {
				t.Errorf("%s: floats differ from the general loop", name)
			}
			if !slices.Equal(gotI, wantI) || !slices.Equal(argI, wantIArg) {
				t.Errorf("%s: integers or their winners differ from the general loop", name)
			}
		}
	}
	g := poolGeom{geom2d: geom2d{c: 1, h: 9, w: 9, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, oh: 4, ow: 4}, planes: 1}
	if _, ok := planMaxPool(g, true).(windowMax); !ok {
		t.Errorf("the planner picked %T for a 3×3 window", planMaxPool(g, true))
	}
}
