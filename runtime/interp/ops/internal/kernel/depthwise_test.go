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

// testDepthwiseGradRow checks DepthwiseGradRow against its Go twin bit for
// bit and against the sum in float64, over tap counts that take the
// blocks of four taps and each tail, and checks that nothing past the
// sums is written.
func testDepthwiseGradRow(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(19, 22))
	for _, test := range []struct{ n, cp, taps, xStep int }{
		{1, 16, 1, 16}, {3, 16, 9, 16}, {4, 32, 9, 32}, {5, 16, 25, 32}, {7, 48, 25, 48},
		{9, 32, 6, 64}, {14, 16, 7, 16}, {8, 48, 4, 96},
	} {
		n, cp, taps := test.n, test.cp, test.taps
		toff := make([]int64, taps)
		for i := range toff {
			toff[i] = int64(rng.IntN(5*cp) / 16 * 16)
		}
		x, dy := randFloats(rng, (n-1)*test.xStep+6*cp), randFloats(rng, n*cp)
		start := randFloats(rng, taps*cp)
		const guard = 5
		got, want := make([]float32, taps*cp+guard), append([]float32(nil), start...)
		copy(got, start)
		for i := range guard {
			got[taps*cp+i] = -7
		}
		k.DepthwiseGradRow(got[:taps*cp], dy, x, toff, n, cp, test.xStep)
		depthwiseGradRowGo(want, dy, x, toff, n, cp, test.xStep)
		for i := range guard {
			if got[taps*cp+i] != -7 {
				t.Fatalf("%+v: wrote past the sums at %d", test, taps*cp+i)
			}
		}
		for tp := range taps {
			for c := range cp {
				i := tp*cp + c
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v: tap %d channel %d: got %v, twin %v", test, tp, c, got[i], want[i])
				}
				sum := float64(start[i])
				for p := range n {
					sum += float64(dy[p*cp+c]) * float64(x[int64(p*test.xStep)+toff[tp]+int64(c)])
				}
				if math.Abs(float64(got[i])-sum) > 1e-5*(1+math.Abs(sum)) {
					t.Fatalf("%+v: tap %d channel %d: got %v, want %v", test, tp, c, got[i], sum)
				}
			}
		}
	}
}
