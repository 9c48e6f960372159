package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gridPoints returns a grid [n,ho,wo,2] whose points lie, in pixel units,
// 0.25 to 0.35 or 0.65 to 0.75 past an integer between −2 and size+1: away
// from every kink of the interpolation and of the padding (integers, the
// half-pixel borders), inside and outside the image.
func gridPoints(rng *rand.Rand, n, ho, wo, h, w int, align bool) *Tensor {
	g := NewFloat(n, ho, wo, 2)
	norm := func(size int) float32 {
		px := float64(rng.IntN(size+4)-2) + 0.25 + 0.1*rng.Float64()
		if rng.IntN(2) == 0 {
			px += 0.4
		}
		if align {
			return float32(2*px/float64(size-1) - 1)
		}
		return float32((2*px+1)/float64(size) - 1)
	}
	for i := 0; i < len(g.Data); i += 2 {
		g.Data[i], g.Data[i+1] = norm(w), norm(h)
	}
	return g
}

// TestGridSampleGradients checks dX and dgrid for every mode, padding and
// align_corners against finite differences (nearest: dX only, its grid
// gradient being 0).
func TestGridSampleGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	for _, mode := range []string{"bilinear", "bicubic", "nearest"} {
		for _, pad := range []string{"zeros", "border", "reflection"} {
			for _, align := range []int{0, 1} {
				name := fmt.Sprintf("%s %s align_corners=%d", mode, pad, align)
				op := newOp(t, "GridSample", attrs{"mode": mode, "padding_mode": pad, "align_corners": align}, 16, 2, 1)
				x := randTensor(rng, -1, 1, 2, 2, 4, 5)
				grid := gridPoints(rng, 2, 3, 3, 4, 5, align == 1)
				var skip []int
				if mode == "nearest" {
					skip = []int{1}
				}
				gradCheck(t, name, op, []*Tensor{x, grid}, skip...)
			}
		}
	}
}

// TestGridSampleRejects checks attributes and shapes: errors, not panics,
// including for grid points that are not numbers.
func TestGridSampleRejects(t *testing.T) {
	for _, a := range []attrs{{"mode": "linear"}, {"padding_mode": "reflect"}, {"align_corners": 2}, {"mode": 1}} {
		if _, err := New(makeNode(t, "GridSample", a, 2, 1), 16, ""); err == nil {
			t.Errorf("%v: accepted", a)
		}
	}
	for _, a := range []attrs{{"mode": "bilinear"}, {"mode": "bicubic"}} {
		if _, err := New(makeNode(t, "GridSample", a, 2, 1), 20, ""); err == nil {
			t.Errorf("%v at opset 20 (where the modes are linear and cubic): accepted", a)
		}
	}
	rng := rand.New(rand.NewPCG(6, 6))
	op := newOp(t, "GridSample", nil, 16, 2, 1)
	for _, test := range []struct {
		name string
		in   []*Tensor
	}{
		{"3-D input", []*Tensor{randTensor(rng, 0, 1, 1, 2, 3), randTensor(rng, 0, 1, 1, 3, 2)}},
		{"grid of 3 coordinates", []*Tensor{randTensor(rng, 0, 1, 1, 1, 3, 3), randTensor(rng, 0, 1, 1, 2, 2, 3)}},
		{"grid of another batch", []*Tensor{randTensor(rng, 0, 1, 2, 1, 3, 3), randTensor(rng, 0, 1, 1, 2, 2, 2)}},
		{"missing grid", []*Tensor{randTensor(rng, 0, 1, 1, 1, 3, 3)}},
	} {
		if _, err := op.Forward(&State{}, test.in); err == nil {
			t.Errorf("%s: accepted", test.name)
		}
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, pad := range []string{"zeros", "border", "reflection"} {
		for _, mode := range []string{"bilinear", "bicubic", "nearest"} {
			op := newOp(t, "GridSample", attrs{"mode": mode, "padding_mode": pad}, 16, 2, 1)
			grid := nnFloats([]int{1, 1, 3, 2}, nan, 0, inf, -inf, 1e30, -1e30)
			if _, err := op.Forward(&State{}, []*Tensor{randTensor(rng, 0, 1, 1, 1, 3, 3), grid}); err != nil {
				t.Errorf("%s %s with non-finite points: %v", mode, pad, err)
			}
		}
	}
}

// TestGridSampleOpset20Names checks that opset 20's linear and cubic are
// opset 16's bilinear and bicubic.
func TestGridSampleOpset20Names(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 20))
	x, grid := randTensor(rng, -1, 1, 1, 2, 4, 5), gridPoints(rng, 1, 3, 3, 4, 5, false)
	for _, pair := range [][2]string{{"linear", "bilinear"}, {"cubic", "bicubic"}, {"nearest", "nearest"}} {
		got := forwardNN(t, newOp(t, "GridSample", attrs{"mode": pair[0]}, 20, 2, 1), &State{}, x, grid)[0]
		want := forwardNN(t, newOp(t, "GridSample", attrs{"mode": pair[1]}, 16, 2, 1), &State{}, x, grid)[0]
		closeTo(t, pair[0], got, want)
	}
	def := forwardNN(t, newOp(t, "GridSample", nil, 20, 2, 1), &State{}, x, grid)[0]
	closeTo(t, "opset 20 default (linear)", def, forwardNN(t, newOp(t, "GridSample", nil, 16, 2, 1), &State{}, x, grid)[0])
}
