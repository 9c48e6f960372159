package interp

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPoolFusion compiles the CNNs under testdata with and without the
// Conv-MaxPool fusion and compares, on the vector kernels (their Go twins
// where the CPU has no assembly): both pairs of each are fused, inference
// gives the same logits bit for bit, and a backward pass the same loss and
// gradients up to the order of float sums.
func TestPoolFusion(t *testing.T) {
	for _, name := range []string{"bench_mnist", "bench_cifar", "fmnist_cnn"} {
		fused := loadProgramWith(t, name, &Options{Seed: 1, Kernels: KernelsOn})
		apart := loadProgramWith(t, name, &Options{Seed: 1, Kernels: KernelsOn, NoPoolFusion: true})
		if want := len(apart.nodes) - 2; len(fused.nodes) != want {
			t.Errorf("%s: %d nodes fused, want %d (two Conv-MaxPool pairs joined)", name, len(fused.nodes), want)
		}
		shape := []int{5}
		for _, d := range fused.Input.Shape[1:] {
			shape = append(shape, int(d))
		}
		x := &Tensor{Shape: shape}
		rng := rand.New(rand.NewPCG(1, 2))
		for range x.Len() {
			x.Data = append(x.Data, rng.Float32())
		}
		labels := []int{0, 1, 2, 3, 4}
		var outs [2][]float32
		var res [2]*Result
		for i, p := range []*Program{fused, apart} {
			out, err := p.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = slices.Clone(out[0].Data)
			r, err := p.Grad(x, labels, Want{Input: true, Params: true})
			if err != nil {
				t.Fatal(err)
			}
			res[i] = &Result{Loss: r.Loss, Input: &Tensor{Shape: r.Input.Shape, Data: slices.Clone(r.Input.Data)}}
			for _, g := range r.Params {
				var c *Tensor
				if g != nil {
					c = &Tensor{Shape: g.Shape, Data: slices.Clone(g.Data)}
				}
				res[i].Params = append(res[i].Params, c)
			}
		}
		if !slices.Equal(outs[0], outs[1]) {
			t.Errorf("%s: fused inference gives %v, the separate ops %v", name, outs[0], outs[1])
		}
		if d := res[0].Loss - res[1].Loss; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s: loss %v fused, %v apart", name, res[0].Loss, res[1].Loss)
		}
		if e := maxRelErr(res[0].Input.Data, res[1].Input.Data, 1e-3); e > 1e-5 {
			t.Errorf("%s: input gradients differ by %g relative", name, e)
		}
		for i, g := range res[1].Params {
			if g == nil {
				continue
			}
			// A bias gradient sums every pixel's, in another order.
			if e := maxRelErr(res[0].Params[i].Data, g.Data, 1e-3); e > 1e-4 {
				t.Errorf("%s: gradient of %s differs by %g relative", name, fused.Params()[i].Name, e)
			}
		}
	}
}
