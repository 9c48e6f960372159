package ops

import (
	"math"
	"testing"
)

// TestMaskWord checks the branch-free test for v > 0 on the values where
// a bit trick could go wrong.
func TestMaskWord(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	denorm := math.Float32frombits(1)
	negZero := math.Float32frombits(0x80000000)
	values := []float32{0, negZero, denorm, -denorm, 1, -1, math.MaxFloat32, -math.MaxFloat32, inf, -inf, nan, -nan, 1e-30, -1e-30}
	for shift := range 64 - len(values) {
		y := make([]float32, shift+len(values))
		copy(y[shift:], values)
		w := maskWord(y)
		for j, v := range y {
			if got, want := w>>j&1 == 1, v > 0; got != want {
				t.Errorf("shift %d: bit %d for %v is %v, want %v", shift, j, v, got, want)
			}
		}
	}
}
