package interp

import (
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGradientPassKeepsOnlyWhatBackwardReads checks the gradient pass that
// lets every value go at its last forward use unless a node saved it:
// on every model here its loss, input gradient and weight gradients are
// bit-identical to those of a pass that keeps every value, while the
// storage it gives back is poisoned with NaN, so a backward rule reading a
// value it did not save would show.
func TestGradientPassKeepsOnlyWhatBackwardReads(t *testing.T) {
	for _, name := range []string{"fmnist_cnn", "bench_cifar", "resblock", "mobile", "normalized", "dropout", "opset7_mlp", "vit_tiny", "convnext_tiny"} {
		t.Run(name, func(t *testing.T) {
			ref, lean := loadProgram(t, name), loadProgram(t, name)
			ref.keepAll = true
			lean.buffers.Poison = true
			shape := slices.Clone(ref.Shapes()[ref.Input.Name])
			shape[0] = 3
			rng := rand.New(rand.NewPCG(5, 6))
			x := &Tensor{Shape: shape, Data: make([]float32, ops.Numel(shape))}
			for i := range x.Data {
				x.Data[i] = rng.Float32()
			}
			labels := []int{0, 1, 2}
			// An attack's pass (the input's gradient alone: ops save
			// less) and a training step's, each run twice: the second
			// reuses what the first gave back.
			for _, w := range []Want{{Input: true}, {Input: true, Params: true}, {Input: true}} {
				want, err := ref.Grad(x, labels, w)
				if err != nil {
					t.Fatal(err)
				}
				for run := range 2 {
					got, err := lean.Grad(x, labels, w)
					if err != nil {
						t.Fatal(err)
					}
					if got.Loss != want.Loss || !slices.Equal(got.Input.Data, want.Input.Data) {
						t.Fatalf("%+v, run %d: loss %v and input gradient differ from the pass that keeps every value (loss %v)", w, run, got.Loss, want.Loss)
					}
					for i, g := range got.Params {
						if (g == nil) != (want.Params[i] == nil) || g != nil && !slices.Equal(g.Data, want.Params[i].Data) {
							t.Fatalf("%+v, run %d: gradient of %s differs from the pass that keeps every value", w, run, ref.Params()[i].Name)
						}
					}
				}
			}
		})
	}
}
