package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBinaryKinds checks Add's and Mul's written-out loops (binarykinds.go)
// against the definitions: outputs bit for bit, and both gradients
// against float64 sums, for operands of one shape and row broadcasts on
// either side, on the vector kernels and off them.
func TestBinaryKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, test := range []struct {
		op   string
		f    func(a, b float64) float64
		da   func(a, b float64) float64 // ∂y/∂a
		db   func(a, b float64) float64
		bits func(a, b float32) float32
	}{
		{"Add", func(a, b float64) float64 { return a + b },
			func(a, b float64) float64 { return 1 }, func(a, b float64) float64 { return 1 },
			func(a, b float32) float32 { return a + b }},
		{"Mul", func(a, b float64) float64 { return a * b },
			func(a, b float64) float64 { return b }, func(a, b float64) float64 { return a },
			func(a, b float32) float32 { return a * b }},
	} {
		for _, shapes := range [][2][]int{
			{{2, 3, 7, 9}, {2, 3, 7, 9}},
			{{2, 3, 7, 9}, {2, 3, 1, 1}},
			{{2, 3, 1, 1}, {2, 3, 7, 9}},
		} {
			for _, kernels := range []bool{false, true} {
				a, b := randTensor(rng, -2, 2, shapes[0]...), randTensor(rng, -2, 2, shapes[1]...)
				op := newOp(t, test.op, nil, 14, 2, 1)
				s := &State{Grad: true, Kernels: kernels, Need: []bool{true, true}}
				y, err := op.Forward(s, []*Tensor{a, b})
				if err != nil {
					t.Fatal(err)
				}
				ia, ib := broadcastIndex(y[0].Shape, a.Shape), broadcastIndex(y[0].Shape, b.Shape)
				for k, v := range y[0].Data {
					if w := test.bits(a.Data[srcAt(ia, k)], b.Data[srcAt(ib, k)]); v != w {
						t.Fatalf("%s %v: y[%d] = %v, want %v", test.op, shapes, k, v, w)
					}
				}
				dy := randTensor(rng, -1, 1, y[0].Shape...)
				g, err := op.Backward(s, []*Tensor{dy})
				if err != nil {
					t.Fatal(err)
				}
				wa, wb := make([]float64, a.Len()), make([]float64, b.Len())
				for k, gv := range dy.Data {
					av, bv := float64(a.Data[srcAt(ia, k)]), float64(b.Data[srcAt(ib, k)])
					wa[srcAt(ia, k)] += float64(gv) * test.da(av, bv)
					wb[srcAt(ib, k)] += float64(gv) * test.db(av, bv)
				}
				for side, want := range [][]float64{wa, wb} {
					for i, w := range want {
						if got := float64(g[side].Data[i]); math.Abs(got-w) > 1e-5*(1+math.Abs(w)) {
							t.Fatalf("%s %v kernels %v: gradient %d [%d] = %v, want %v", test.op, shapes, kernels, side, i, got, w)
						}
					}
				}
			}
		}
	}
}
