package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// testDepthwiseRow checks DepthwiseRow against its Go twin bit for bit
// and against the sum in float64, over pixel counts that take the
// four-pixel blocks and each tail, one to three channel vectors, one to
// 25 taps, unit and wider steps, with and without Relu, and checks that
// nothing past the output is written.
func testDepthwiseRow(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(19, 21))
	for _, test := range []struct{ n, cp, taps, xStep int }{
		{1, 16, 1, 16}, {3, 16, 9, 16}, {4, 32, 9, 32}, {5, 16, 25, 32}, {7, 48, 25, 48},
		{9, 32, 9, 64}, {14, 16, 25, 16}, {8, 48, 4, 96},
	} {
		for _, relu := range []bool{false, true} {
			n, cp := test.n, test.cp
			toff := make([]int64, test.taps)
			for i := range toff {
				toff[i] = int64(rng.IntN(5*cp) / 16 * 16)
			}
			xlen := (n-1)*test.xStep + 5*cp + cp
			x, w, bias := randFloats(rng, xlen), randFloats(rng, test.taps*cp), randFloats(rng, cp)
			const guard = 5
			got, want := make([]float32, n*cp+guard), make([]float32, n*cp)
			for i := range guard {
				got[n*cp+i] = -7
			}
			k.DepthwiseRow(got[:n*cp], x, w, bias, toff, n, cp, test.xStep, relu)
			depthwiseRowGo(want, x, w, bias, toff, n, cp, test.xStep, relu)
			for i := range guard {
				if got[n*cp+i] != -7 {
					t.Fatalf("%+v relu %v: wrote past the output at %d", test, relu, n*cp+i)
				}
			}
			for p := range n {
				for c := range cp {
					i := p*cp + c
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%+v relu %v: pixel %d channel %d: got %v, twin %v", test, relu, p, c, got[i], want[i])
					}
					sum := float64(bias[c])
					for tp, off := range toff {
						sum += float64(w[tp*cp+c]) * float64(x[int64(p*test.xStep)+off+int64(c)])
					}
					if relu {
						sum = max(sum, 0)
					}
					if math.Abs(float64(got[i])-sum) > 1e-5*(1+math.Abs(sum)) {
						t.Fatalf("%+v relu %v: pixel %d channel %d: got %v, want %v", test, relu, p, c, got[i], sum)
					}
				}
			}
		}
	}
}
