//go:build amd64 && !purego

package pixelstep

import "golang.org/x/sys/cpu"

// Available reports whether Step runs on the assembly, which needs
// AVX-512F; elsewhere the Go loop runs alone.
var Available = cpu.X86.HasAVX512F

var native impl = func() impl {
	if Available {
		return asmImpl{}
	}
	return goImpl{}
}()

// asmImpl is the assembly, a vector of 16 elements at a time.
type asmImpl struct{}

func (asmImpl) step(adv, x, grad []float32, a, eps float32) int {
	n := len(adv) &^ (width - 1)
	if n == 0 {
		return 0
	}
	return step16(&adv[0], &x[:n][0], &grad[:n][0], n, a, a*0, eps)
}

// step16 steps the first n elements, n a positive multiple of 16, with
// step a, a·0 the step where the gradient is zero or NaN, and returns
// how many it stepped: n, or fewer where it stopped before a vector in
// which v + d, x − ε or x + ε is NaN.
//
//go:noescape
func step16(adv, x, grad *float32, n int, a, az, eps float32) (done int)
