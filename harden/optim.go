package harden

import "github.com/onnxguard/onnxguard/harden/internal/adam"

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
func (o *SGDM) Step(params, grads [][]float32, lr float64) {
	if len(o.Velocity) < len(params) {
		o.Velocity = append(o.Velocity, make([][]float32, len(params)-len(o.Velocity))...)
	}
	for i, g := range grads {
		if g == nil {
			continue
		}
		w := params[i]
		if len(o.Velocity[i]) != len(w) {
			o.Velocity[i] = make([]float32, len(w))
		}
		v := o.Velocity[i]
		forChunks(len(g), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				d := float64(g[j]) + o.WeightDecay*float64(w[j])
				vj := o.Momentum*float64(v[j]) + d
				v[j] = float32(vj)
				w[j] = float32(float64(w[j]) - lr*vj)
			}
		})
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
func (o *AdamW) Step(params, grads [][]float32, lr float64) {
	if n := len(params) - len(o.M); n > 0 {
		o.M = append(o.M, make([][]float32, n)...)
		o.V = append(o.V, make([][]float32, n)...)
		o.T = append(o.T, make([]int, n)...)
	}
	for i, g := range grads {
		if g == nil {
			continue
		}
		w := params[i]
		if len(o.M[i]) != len(w) {
			o.M[i], o.V[i] = make([]float32, len(w)), make([]float32, len(w))
		}
		o.T[i]++
		c := adam.NewCoef(o.Beta1, o.Beta2, o.Eps, lr, o.WeightDecay, o.T[i])
		m, v := o.M[i], o.V[i]
		forChunks(len(g), func(lo, hi int) {
			adam.Update(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], &c)
		})
	}
}
