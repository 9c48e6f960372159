package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGateGradients checks the fused gates y = x·g(x) against central
// differences, each away from the kinks of its HardSigmoid.
func TestGateGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 9))
	for _, test := range []struct {
		name  string
		op    Op
		kinks []float32
	}{
		{"silu", siluGate, nil},
		{"hardswish", hardSigmoid{alpha: 1.0 / 6, beta: 0.5}.swishGate(), []float32{-3, 3}},
		{"hardsigmoid gate, other slope", hardSigmoid{alpha: 0.2, beta: 0.5}.swishGate(), []float32{-2.5, 2.5}},
	} {
		x := awayFrom(randTensor(rng, -6, 6, 2, 3, 4, 5), 0.05, test.kinks...)
		gradCheck(t, test.name, test.op, []*Tensor{x})
	}
}

// TestGateMatchesUnfused checks that a fused gate gives the unfused
// graph's output bit for bit, on the vector kernels and off them, and its
// gradient up to float rounding (the unfused graph sums two paths into
// x's gradient). The lengths leave tails past the kernels' vectors.
func TestGateMatchesUnfused(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	for _, test := range []struct {
		name, g string
		attrs   attrs
		opset   int64
	}{
		{"silu", "Sigmoid", nil, 13},
		{"hardswish", "HardSigmoid", attrs{"alpha": 1.0 / 6}, 13},
	} {
		for _, kernels := range []bool{false, true} {
			x := randTensor(rng, -8, 8, 3, 4, 23)
			dy := randTensor(rng, -1, 1, 3, 4, 23)
			g, mul := newOp(t, test.g, test.attrs, test.opset, 1, 1), newOp(t, "Mul", nil, 14, 2, 1)
			var fused Op
			for _, f := range Fusions() {
				if f.First == test.g && f.Then == "Mul" && f.Gate {
					fused, _ = f.Join(g, mul, nil, false)
				}
			}
			if fused == nil {
				t.Fatalf("%s: no gate rule joins %s and Mul", test.name, test.g)
			}
			sg, sm, sf := &State{Grad: true}, &State{Grad: true}, &State{Grad: true, Kernels: kernels}
			gx, _ := g.Forward(sg, []*Tensor{x})
			want, _ := mul.Forward(sm, []*Tensor{x, gx[0]})
			got, err := fused.Forward(sf, []*Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[0].Data, want[0].Data) {
				t.Errorf("%s, kernels %v: fused output differs from Mul(x, %s(x))", test.name, kernels, test.g)
			}
			dm, _ := mul.Backward(sm, []*Tensor{dy})
			dg, _ := g.Backward(sg, []*Tensor{dm[1]})
			dx, _ := fused.Backward(sf, []*Tensor{dy})
			for i := range dx[0].Data {
				w := dm[0].Data[i] + dg[0].Data[i]
				if d := dx[0].Data[i] - w; d > 1e-6+1e-6*abs32(w) || -d > 1e-6+1e-6*abs32(w) {
					t.Errorf("%s, kernels %v: gradient [%d] %g fused, %g apart", test.name, kernels, i, dx[0].Data[i], w)
					break
				}
			}
		}
	}
}

func abs32(v float32) float32 { return max(v, -v) }
