package interp

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPoolFusion checks that inference runs a Conv and the 2×2 MaxPool
// after it in one pass on the models that have the pair, and that the
// result is exactly what the separate ops give (Grad runs them apart).
func TestPoolFusion(t *testing.T) {
	for _, name := range []string{"bench_mnist", "bench_cifar", "fmnist_cnn"} {
		p := loadProgram(t, name)
		pairs := 0
		for _, fused := range p.poolNext {
			if fused {
				pairs++
			}
		}
		if pairs != 2 {
			t.Errorf("%s: %d Conv-MaxPool pairs found, want 2", name, pairs)
		}
		shape := []int{5}
		for _, d := range p.Input.Shape[1:] {
			shape = append(shape, int(d))
		}
		x := &Tensor{Shape: shape}
		rng := rand.New(rand.NewPCG(1, 2))
		for range x.Len() {
			x.Data = append(x.Data, rng.Float32())
		}
		out, err := p.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		fused := slices.Clone(out[0].Data)
		r, err := p.Grad(x, make([]int, 5), Want{Input: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(fused, r.Logits.Data) {
			t.Errorf("%s: fused inference gives %v, the separate ops %v", name, fused[:10], r.Logits.Data[:10])
		}
	}
}
