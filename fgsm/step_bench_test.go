package fgsm

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkStep times one FGSM step over a batch of 16 ImageNet-sized
// images whose gradient signs are random, as a model's are.
func BenchmarkStep(b *testing.B) {
	const n = 16 * 3 * 224 * 224
	rng := rand.New(rand.NewPCG(1, 2))
	x, g, adv := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
		g[i] = float32(rng.NormFloat64())
	}
	b.SetBytes(4 * n)
	for b.Loop() {
		copy(adv, x)
		Step(adv, x, g, 1, 8.0/255, 8.0/255)
	}
}
