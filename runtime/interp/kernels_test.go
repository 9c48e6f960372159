package interp

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// TestKernelModes runs the CNNs under testdata with the kernels off and on
// (their Go twins where the CPU has no assembly): the same logits, loss
// and gradients up to the order of float sums, so the option reaches the
// operators and both paths compute the model.
func TestKernelModes(t *testing.T) {
	for _, name := range []string{"bench_mnist", "fmnist_cnn"} {
		var logits [2][]float32
		var res [2]*Result
		var nodes [2]int
		for i, mode := range []KernelMode{KernelsOff, KernelsOn} {
			p := loadProgramWith(t, name, &Options{Seed: 1, Kernels: mode})
			nodes[i] = len(p.nodes)
			shape := []int{3}
			for _, d := range p.Input.Shape[1:] {
				shape = append(shape, int(d))
			}
			x := &Tensor{Shape: shape}
			rng := rand.New(rand.NewPCG(3, 4))
			for range x.Len() {
				x.Data = append(x.Data, rng.Float32())
			}
			out, err := p.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			logits[i] = slices.Clone(out[0].Data)
			r, err := p.Grad(x, []int{0, 1, 2}, Want{Input: true})
			if err != nil {
				t.Fatal(err)
			}
			res[i] = &Result{Loss: r.Loss, Input: &Tensor{Shape: r.Input.Shape, Data: slices.Clone(r.Input.Data)}}
		}
		if nodes[1] >= nodes[0] {
			t.Errorf("%s: %d nodes on the kernels, %d off: the Conv-MaxPool pairs were not fused", name, nodes[1], nodes[0])
		}
		if e := maxRelErr(logits[1], logits[0], 1e-3); e > 1e-5 {
			t.Errorf("%s: logits differ by %g relative between the kernels and the portable paths", name, e)
		}
		if d := res[1].Loss - res[0].Loss; d > 1e-5 || d < -1e-5 {
			t.Errorf("%s: loss %v on the kernels, %v on the portable paths", name, res[1].Loss, res[0].Loss)
		}
		if e := maxRelErr(res[1].Input.Data, res[0].Input.Data, 1e-3); e > 1e-4 {
			t.Errorf("%s: input gradients differ by %g relative", name, e)
		}
	}
}

func TestKernelsName(t *testing.T) {
	auto, on := "none", "go"
	if ops.Kernels() == "avx512f" {
		auto, on = "avx512f", "avx512f"
	}
	for _, test := range []struct {
		opt  *Options
		want string
	}{
		{nil, auto}, {&Options{}, auto}, {&Options{Kernels: KernelsOff}, "off"}, {&Options{Kernels: KernelsOn}, on},
	} {
		if got := Kernels(test.opt); got != test.want {
			t.Errorf("Kernels(%+v) = %q, want %q", test.opt, got, test.want)
		}
	}
}
