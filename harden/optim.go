package harden

import (
	"math"

	"github.com/onnxguard/onnxguard/harden/internal/adam"
)

// Optimizer updates weights in place from their gradients.
type Optimizer interface {
	// Step updates params[i] from grads[i] at learning rate lr. A nil
	// grads[i] leaves params[i] and its state untouched: running
	// statistics and constants have no gradient and are not the
	// optimizer's to change.
	Step(params, grads [][]float32, lr float64)
}

// SGDM is stochastic gradient descent with momentum and L2 weight decay,
// PyTorch's torch.optim.SGD without dampening or Nesterov:
//
//	g ← g + λ·w;  v ← μ·v + g;  w ← w − lr·v
//
// with v starting at zero, so the first step is a plain gradient step.
type SGDM struct {
	Momentum    float64     // μ
	WeightDecay float64     // λ, added to the gradient (L2)
	Velocity    [][]float32 // v per parameter; empty until its first step
}

// Step implements Optimizer.
func (o *SGDM) Step(params, grads [][]float32, lr float64) { stepParts(o, params, grads, lr) }

func (o *SGDM) part(params [][]float32, i int, lr float64) func(g, h []float32, lo, hi int) bool {
	w := params[i]
	if n := len(params) - len(o.Velocity); n > 0 {
		o.Velocity = append(o.Velocity, make([][]float32, n)...)
	}
	if len(o.Velocity[i]) != len(w) {
		o.Velocity[i] = make([]float32, len(w))
	}
	v, mu, wd := o.Velocity[i], o.Momentum, o.WeightDecay
	return func(g, h []float32, lo, hi int) bool {
		bad := false
		for j := lo; j < hi; j++ {
			gj := g[j]
			if h != nil {
				gj = (gj + h[j]) / 2
			}
			d := float64(gj) + wd*float64(w[j])
			vj := mu*float64(v[j]) + d
			v[j] = float32(vj)
			w[j] = float32(float64(w[j]) - lr*vj)
			bad = bad || math.Float32bits(w[j])&expBits == expBits
		}
		return bad
	}
}

// AdamW is Adam (Kingma & Ba) with decoupled weight decay (Loshchilov &
// Hutter), PyTorch's torch.optim.AdamW: the decay shrinks the weights
// directly instead of entering the gradient, so it is not rescaled by
// Adam's per-weight step sizes. With WeightDecay 0 it is plain Adam.
//
//	w ← w − lr·λ·w
//	m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	w ← w − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
type AdamW struct {
	Beta1, Beta2, Eps float64 // 0.9, 0.999, 1e-8 from NewAdamW
	WeightDecay       float64 // λ
	M, V              [][]float32
	T                 []int // steps taken per parameter
}

// NewAdamW returns Adam with the usual β1 0.9, β2 0.999, ε 1e-8.
func NewAdamW(weightDecay float64) *AdamW {
	return &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}
}

// Step implements Optimizer.
func (o *AdamW) Step(params, grads [][]float32, lr float64) { stepParts(o, params, grads, lr) }

func (o *AdamW) part(params [][]float32, i int, lr float64) func(g, h []float32, lo, hi int) bool {
	w := params[i]
	if n := len(params) - len(o.M); n > 0 {
		o.M = append(o.M, make([][]float32, n)...)
		o.V = append(o.V, make([][]float32, n)...)
		o.T = append(o.T, make([]int, n)...)
	}
	if len(o.M[i]) != len(w) {
		o.M[i], o.V[i] = make([]float32, len(w)), make([]float32, len(w))
	}
	o.T[i]++
	c := adam.NewCoef(o.Beta1, o.Beta2, o.Eps, lr, o.WeightDecay, o.T[i])
	m, v := o.M[i], o.V[i]
	return func(g, h []float32, lo, hi int) bool {
		if h != nil {
			h = h[lo:hi]
		}
		return adam.Update(w[lo:hi], g[lo:hi], h, m[lo:hi], v[lo:hi], &c)
	}
}

// parted is an Optimizer that updates a parameter part by part, element
// by element as both of this package's do, and does in the same pass what
// the trainer would otherwise pass over every weight for (trainer.update):
// averaging two halves' gradients, and looking for NaN and infinity in the
// weights it leaves. The trainer's optimizer is one.
type parted interface {
	Optimizer
	// part readies params[i] for a step at rate lr (its state, its step
	// count) and returns the update of its elements [lo, hi) from gradient
	// g or, where h is not nil, from (g + h) / 2, element by element in
	// float32, leaving g and h as they were; the update reports whether a
	// weight it wrote is NaN or infinite. Updates of parts may run at
	// once; every element must be updated once before the next part call
	// for i.
	part(params [][]float32, i int, lr float64) func(g, h []float32, lo, hi int) bool
}

// stepParts is a parted optimizer's Step: each parameter with a gradient
// updated in chunks at once.
func stepParts(o parted, params, grads [][]float32, lr float64) {
	for i, g := range grads {
		if g == nil {
			continue
		}
		update := o.part(params, i, lr)
		forChunks(len(g), func(lo, hi int) { update(g, nil, lo, hi) })
	}
}
