// Package adam is the elementwise update of Adam with decoupled weight
// decay (harden.AdamW), in float64 as PyTorch's reference is written, on
// AVX-512F where the CPU has it and in Go elsewhere. Both give the same
// bits: the assembly rounds each operation as Go does, in Go's order, and
// fuses no multiply and add.
package adam

import "math"

// Coef are one step's constants for one parameter tensor.
type Coef struct {
	B1, B2 float64 // β1, β2
	C1, C2 float64 // 1 − β1 and 1 − β2
	Step   float64 // lr / (1 − β1ᵗ)
	Root   float64 // √(1 − β2ᵗ)
	Shrink float64 // 1 − lr·λ
	Eps    float64 // ε
}

// NewCoef returns the constants of step t (from 1) at learning rate lr
// and weight decay wd.
func NewCoef(b1, b2, eps, lr, wd float64, t int) Coef {
	return Coef{
		B1: b1, B2: b2, C1: 1 - b1, C2: 1 - b2,
		Step:   lr / (1 - math.Pow(b1, float64(t))),
		Root:   math.Sqrt(1 - math.Pow(b2, float64(t))),
		Shrink: 1 - lr*wd,
		Eps:    eps,
	}
}

// Update takes one step on weights w with gradients g and moments m, v,
// all of one length, and reports whether it left a weight NaN or
// infinite:
//
//	m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	w ← w·(1 − lr·λ) − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
//
// Where h is not nil (of the same length) the gradient is the mean of g
// and h, element by element, (g + h) / 2 rounded to float32 as Go rounds
// it: the step of a batch whose halves' gradients are g and h. g and h
// are left as they were.
func Update(w, g, h, m, v []float32, c *Coef) (bad bool) {
	n := len(w)
	if len(g) != n || len(m) != n || len(v) != n || h != nil && len(h) != n {
		panic("adam: slices of different lengths") // a bug in the caller, never input
	}
	body, bad := native.update(w, g, h, m, v, c)
	if h != nil {
		h = h[body:]
	}
	return update(w[body:], g[body:], h, m[body:], v[body:], c) || bad
}

// impl updates a prefix of the slices, as Update, and returns its
// length and whether it left a weight non-finite; Update does the rest in
// Go.
type impl interface {
	update(w, g, h, m, v []float32, c *Coef) (int, bool)
}

// goImpl leaves everything to the Go loop.
type goImpl struct{}

func (goImpl) update(w, g, h, m, v []float32, c *Coef) (int, bool) { return 0, false }

// update is the Go loop, the reference the assembly matches. Each
// product is converted explicitly, which keeps the compiler from fusing
// it with the sum that follows (it may at GOAMD64=v3 and above): fused,
// the loop's bits would depend on the build, and the tails it takes would
// differ from the assembly's body. A float32 is NaN or infinite when its
// exponent's bits are all ones.
func update(w, g, h, m, v []float32, c *Coef) (bad bool) {
	var nonFinite uint32
	for j := range w {
		gj := g[j]
		if h != nil {
			gj = (gj + h[j]) / 2
		}
		gd := float64(gj)
		mj := float64(c.B1*float64(m[j])) + float64(c.C1*gd)
		vj := float64(c.B2*float64(v[j])) + float64(float64(c.C2*gd)*gd)
		m[j], v[j] = float32(mj), float32(vj)
		wj := float64(float64(w[j]) * c.Shrink)
		w[j] = float32(wj - float64(c.Step*mj)/(math.Sqrt(vj)/c.Root+c.Eps))
		if math.Float32bits(w[j])&expBits == expBits {
			nonFinite = 1
		}
	}
	return nonFinite != 0
}

// expBits are a float32's exponent bits.
const expBits = 0xff << 23
