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

func (asmImpl) update(w, g, m, v []float32, c *Coef) int {
	n := len(w) &^ 7
	if n > 0 {
		update8(&w[0], &g[0], &m[0], &v[0], n, c)
	}
	return n
}

// update8 updates n elements, n a positive multiple of 8.
//
//go:noescape
func update8(w, grad, m, v *float32, n int, c *Coef)
