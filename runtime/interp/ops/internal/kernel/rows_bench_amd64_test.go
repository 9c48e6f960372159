//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"testing"
)

// BenchmarkDepthwiseRowsGrad times the weight gradient of MobileNet-V2's
// 3×3 depthwise layers (pad 1) on the vector kernels, a channel's three
// kernel rows at a time as the rows strategy calls it: the three taps of a
// kernel row at once (depthwiseRowsGrad3, what DepthwiseRowsGrad runs for
// kw = 3) and one tap at a time (depthwiseRowsGrad, before), on one plane
// over and over (in cache) and on as many as batch 16 has of the layer
// (from memory), one goroutine.
//
//	go test -run '^$' -bench DepthwiseRowsGrad ./runtime/interp/ops/internal/kernel/
func BenchmarkDepthwiseRowsGrad(b *testing.B) {
	if !Available {
		b.Skip("no AVX-512F")
	}
	for _, c := range []struct{ h, oh, s, planes int }{{112, 56, 2, 1}, {112, 56, 2, 16 * 96}, {56, 56, 1, 1}, {56, 56, 1, 16 * 144}, {28, 14, 2, 1}, {14, 14, 1, 1}} {
		l := NewRowLayout(c.h, c.oh, 3, 1, c.s)
		x, dy := make([]float32, c.h*c.h*c.planes), make([]float32, c.oh*c.oh*c.planes)
		for i := range x {
			x[i] = float32(i%7) * 0.1
		}
		for i := range dy {
			dy[i] = float32(i%5) * 0.1
		}
		sums := make([]float32, 3)
		for _, kern := range []struct {
			name string
			run  func(a *rowArgs)
		}{{"taps", depthwiseRowsGrad3}, {"perTap", depthwiseRowsGrad}} {
			b.Run(fmt.Sprintf("%dx%d_s%d_planes%d/%s", c.h, c.h, c.s, c.planes, kern.name), func(b *testing.B) {
				for b.Loop() {
					for p := range c.planes {
						xp, dp := x[p*c.h*c.h:][:c.h*c.h], dy[p*c.oh*c.oh:][:c.oh*c.oh]
						for ki := range 3 {
							// Output rows oy0..oy1−1 read input row oy·s − 1 + ki.
							oy0, oy1 := max(0, (c.s-ki)/c.s), min(c.oh, (c.h-ki)/c.s+1)
							a := gradArgs(l, sums, dp[oy0*c.oh:], xp[(oy0*c.s-1+ki)*c.h:], c.oh, c.s*c.h, oy1-oy0)
							kern.run(&a)
						}
					}
				}
				b.ReportMetric(float64(2*9*c.oh*c.oh*c.planes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
