package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// testDepthwiseRows checks DepthwiseRows against its Go twin bit for bit
// and against the sum in float64, over planes of every width from 1 to 40
// (whole blocks and each tail), kernels of 1 to 7 taps a row with every
// padding up to the kernel's, strides 1 and 2, one to nine rows (the
// four-row groups and the rows left), rows apart and packed, with and
// without Relu. NaN before and after the plane's rows, and in the output
// between and after its rows, catch a read outside the image or a write
// outside the row.
func testDepthwiseRows(t *testing.T, k checked) {
	rng := rand.New(rand.NewPCG(23, 29))
	for w := 1; w <= 40; w++ {
		for _, kw := range []int{1, 3, 5, 7} {
			for pw := -1; pw <= kw/2+1 && pw < kw; pw++ {
				for _, s := range []int{1, 2} {
					ow := (w+2*pw-kw)/s + 1
					if ow <= 0 {
						continue
					}
					kh, rows := 1+rng.IntN(kw), 1+rng.IntN(9)
					xRow, oRow := s*w, ow+rng.IntN(3)
					relu := rng.IntN(2) == 0
					l := NewRowLayout(w, ow, kw, pw, s)
					const lead = 7
					n := lead + (rows-1)*xRow + kh*w
					x := randFloats(rng, n+5)
					for i := range lead {
						x[i] = float32(math.NaN())
					}
					for i := n; i < len(x); i++ {
						x[i] = float32(math.NaN())
					}
					wts, bias := randFloats(rng, kh*kw), rng.Float32()-0.5
					olen := (rows-1)*oRow + ow
					got, want := make([]float32, olen+3), make([]float32, olen+3)
					for i := range got {
						got[i], want[i] = -7, -7
					}
					k.DepthwiseRows(l, got, x, wts, lead, xRow, oRow, rows, kh, bias, relu)
					depthwiseRowsGo(l, want, x[lead:], wts, xRow, oRow, rows, kh, bias, relu)
					name := func() string {
						return "w " + itoa(w) + " kw " + itoa(kw) + " pw " + itoa(pw) + " s " + itoa(s) + " kh " + itoa(kh) + " rows " + itoa(rows)
					}
					for i := range got {
						r, j := i/oRow, i%oRow
						if r >= rows || j >= ow {
							if got[i] != -7 {
								t.Fatalf("%s: wrote %v at %d, outside the rows", name(), got[i], i)
							}
							continue
						}
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s: row %d pixel %d: got %v, twin %v", name(), r, j, got[i], want[i])
						}
						sum := float64(bias)
						for ki := range kh {
							for kj := range kw {
								if col := s*j + kj - pw; col >= 0 && col < w {
									sum += float64(wts[ki*kw+kj]) * float64(x[lead+r*xRow+ki*w+col])
								}
							}
						}
						if relu {
							sum = max(sum, 0)
						}
						if math.Abs(float64(got[i])-sum) > 1e-5*(1+math.Abs(sum)) {
							t.Fatalf("%s: row %d pixel %d: got %v, want %v", name(), r, j, got[i], sum)
						}
					}
				}
			}
		}
	}
}

func itoa(v int) string {
	if v < 0 {
		return "-" + itoa(-v)
	}
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}
