package harden

import (
	"math"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/harden/arch"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// TestAWPPerturbation checks the weight perturbation on a tiny network:
// every weight of two or more dimensions moves by γ·‖w_l‖ along its
// gradient of the recipe's loss, biases stay, the loss rises, and
// awpRestore gives back the weights bit for bit.
func TestAWPPerturbation(t *testing.T) {
	shape := [3]int{1, 4, 4}
	m, err := arch.Build("paper-simple", &arch.Options{Input: shape, Classes: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Recipe{PGD, TRADES} {
		prog, err := interp.Compile(m, &interp.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		train := random(8, 1, 4, 4, 9)
		for i := range train.Labels {
			train.Labels[i] %= 3
		}
		tr, err := newTrainer(prog, dataset.Preprocess{}, train, nil, Config{Recipe: r, Eps: 0.1, AWP: true, AWPGamma: 0.02}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ys := append([]int(nil), train.Labels...)
		x := append([]float32(nil), train.X...)
		if r == TRADES {
			for i := range x { // a made-up adversarial half
				x[i] = min(x[i]+0.05, 1)
			}
			x, ys = append(append([]float32(nil), train.X...), x...), append(ys, ys...)
		}
		in := &interp.Tensor{Shape: []int{len(ys), 1, 4, 4}, Data: x}
		before := paramValues(prog)
		res, err := prog.Grad(in, ys, interp.Want{Params: true, Loss: tr.want.Loss})
		if err != nil {
			t.Fatal(err)
		}
		loss0 := res.Loss
		grads := make([][]float32, len(res.Params))
		for i, g := range res.Params {
			if g != nil {
				grads[i] = append([]float32(nil), g.Data...)
			}
		}
		if err := tr.awpPerturb(in, ys, 7); err != nil {
			t.Fatal(err)
		}
		for i, p := range prog.Params() {
			w := before[p.Name]
			if len(p.T.Shape) < 2 {
				if !slices.Equal(w, p.T.Data) {
					t.Errorf("%s: %s of shape %v moved", r, p.Name, p.T.Shape)
				}
				continue
			}
			var dot, dd float64
			for j := range w {
				d := float64(p.T.Data[j]) - float64(w[j])
				dot += d * float64(grads[i][j])
				dd += d * d
			}
			if got, want := math.Sqrt(dd), 0.02*norm2(w); math.Abs(got-want) > 1e-3*want {
				t.Errorf("%s: ‖v‖ of %s is %g, want γ‖w‖ = %g", r, p.Name, got, want)
			}
			if cos := dot / (math.Sqrt(dd) * norm2(grads[i])); cos < 0.999 {
				t.Errorf("%s: v of %s is at cosine %g to the gradient, want 1", r, p.Name, cos)
			}
		}
		res, err = prog.Grad(in, ys, interp.Want{Loss: tr.want.Loss, Input: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Loss <= loss0 {
			t.Errorf("%s: the loss went from %g to %g under the perturbation; want it up", r, loss0, res.Loss)
		}
		tr.awpRestore()
		if p := sameBits(paramValues(prog), before); p != "" {
			t.Errorf("%s: after awpRestore the weights differ at %s", r, p)
		}
	}
}
