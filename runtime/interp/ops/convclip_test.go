package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestConvClipFusion checks the Clip pattern and the Conv+Clip fusion
// (convclip.go): a Conv with a constant-bound Clip (ReLU6) folded in gives
// the output of the two nodes apart bit for bit, on the vector kernels and
// off them, and the same gradients of the input, the weights and the bias.
func TestConvClipFusion(t *testing.T) {
	var pattern *Pattern
	for _, p := range Patterns() {
		if p.Name == "Clip" {
			pattern = &p
		}
	}
	var fusion *Fusion
	for _, f := range Fusions() {
		if f.First == "Conv" && f.Then == "Clip" {
			fusion = &f
		}
	}
	if pattern == nil || fusion == nil {
		t.Fatal("no Clip pattern or Conv+Clip fusion registered")
	}
	if _, ok := pattern.Op([]float32{6, 0}); ok {
		t.Error("the pattern took bounds min 6, max 0")
	}
	if relu6, ok := pattern.Op([]float32{0, 6}); ok {
		if clipped, ok := fusion.Join(newOp(t, "Conv", nil, 13, 3, 1), relu6, nil, false); ok {
			if _, ok := fuseRelu(clipped); ok {
				t.Error("fuseRelu joined a Relu to a Conv with a Clip folded in, whose mask it would overwrite")
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, test := range []struct {
		name string
		a    attrs
		x, w []int
	}{
		{"3x3", attrs{"pads": []int64{1, 1, 1, 1}}, []int{2, 3, 9, 10}, []int{5, 3, 3, 3}},
		{"depthwise strided", attrs{"group": 4, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{2, 4, 11, 9}, []int{4, 1, 3, 3}},
	} {
		for _, kernels := range []bool{false, true} {
			in := []*Tensor{randTensor(rng, -3, 3, test.x...), randTensor(rng, -1, 1, test.w...), randTensor(rng, -1, 1, test.w[0])}
			relu6, ok := pattern.Op([]float32{0, 6})
			if !ok {
				t.Fatal("the pattern refused bounds 0, 6")
			}
			conv, fused := newOp(t, "Conv", test.a, 13, 3, 1), newOp(t, "Conv", test.a, 13, 3, 1)
			fused, ok = fusion.Join(fused, relu6, nil, kernels)
			if !ok {
				t.Fatalf("%s: the fusion refused Conv and Clip", test.name)
			}
			r := runFused(t, rng, conv, relu6, fused, in, kernels)
			if !slices.Equal(r.fused.Data, r.apart.Data) {
				t.Errorf("%s, kernels %v: fused output differs from Clip(Conv)", test.name, kernels)
			}
			clipped := 0
			for i, v := range r.conv.Data {
				if v != r.apart.Data[i] {
					clipped++
				}
			}
			if clipped == 0 || clipped == len(r.conv.Data) {
				t.Fatalf("%s: %d of %d outputs clipped: the case does not test the mask", test.name, clipped, len(r.conv.Data))
			}
			for i, what := range []string{"dX", "dW", "dB"} {
				closeTo(t, test.name+": "+what, r.gradFused[i], r.gradApart[i])
			}
		}
	}
}
