package harden

import (
	"math"
	"sync"
)

// update takes the optimizer's step on every weight with a gradient in
// grads (aligned with t.data) and checks every weight, running statistics
// included, for NaN and infinity after it. Where half is not nil, each
// step is on the mean of the gradient and half's (the fused paper step's
// clean half; a weight half has no gradient for takes half its gradient,
// the mean with zero). It returns the first weight left non-finite, by
// parameter and element, or -1, -1; every weight is updated either way.
//
// The mean and the check are part of the optimizer's pass over the
// weights, where they took a pass of their own each: on ResNet-50's 25.5M
// weights the update takes 23 ms instead of 46 (BenchmarkUpdate).
func (t *trainer) update(grads, half [][]float32, lr float64) (param, at int) {
	param, at = -1, -1
	for i, d := range t.data {
		j := -1
		if g := grads[i]; g != nil {
			var h []float32
			if half != nil {
				if h = half[i]; h == nil {
					h = make([]float32, len(g))
				}
			}
			step := t.opt.part(t.data, i, lr)
			j = scanFinite(len(g), func(lo, hi int) int {
				if !step(g, h, lo, hi) {
					return -1
				}
				return nonFinite(d[lo:hi])
			})
			if k := nonFinite(d[min(len(g), len(d)):]); j < 0 && k >= 0 {
				j = len(g) + k // past the gradient, as Step leaves them
			}
		} else {
			j = firstNonFinite(d)
		}
		if j >= 0 && param < 0 {
			param, at = i, j
		}
	}
	return param, at
}

// firstNonFinite returns the index of the first NaN or infinity in d, or
// -1.
func firstNonFinite(d []float32) int {
	return scanFinite(len(d), func(lo, hi int) int { return nonFinite(d[lo:hi]) })
}

// scanFinite runs find over [0, n) in the chunks of forChunks, at once,
// and returns the lowest index found, or -1; find returns the index of
// its find within its chunk, or -1.
func scanFinite(n int, find func(lo, hi int) int) int {
	var mu sync.Mutex
	at := -1
	forChunks(n, func(lo, hi int) {
		if j := find(lo, hi); j >= 0 {
			mu.Lock()
			if at < 0 || lo+j < at {
				at = lo + j
			}
			mu.Unlock()
		}
	})
	return at
}

// nonFinite returns the index of the first NaN or infinity in d, or -1. A
// float32 is NaN or infinite when its exponent's bits are all ones.
func nonFinite(d []float32) int {
	for j, v := range d {
		if math.Float32bits(v)&expBits == expBits {
			return j
		}
	}
	return -1
}

// expBits are a float32's exponent bits.
const expBits = 0xff << 23
