//go:build amd64 && !purego

package adam

import "golang.org/x/sys/cpu"

// Available reports whether Update runs on the assembly, which needs
// AVX-512F; elsewhere the Go loop runs alone.
var Available = cpu.X86.HasAVX512F

var native impl = func() impl {
	if Available {
		return asmImpl{}
	}
	return goImpl{}
}()

// asmImpl is the assembly, eight elements at a time.
type asmImpl struct{}

func (asmImpl) update(w, g, h, m, v []float32, c *Coef) (int, bool) {
	n := len(w) &^ 7
	if n == 0 {
		return 0, false
	}
	var half *float32
	if h != nil {
		half = &h[0]
	}
	return n, update8(&w[0], &g[0], half, &m[0], &v[0], n, c)
}

// update8 updates n elements, n a positive multiple of 8, from the
// gradient grad or, where half is not nil, (grad + half) / 2, and reports
// whether a weight is NaN or infinite after.
//
//go:noescape
func update8(w, grad, half, m, v *float32, n int, c *Coef) (bad bool)
