package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// gateFusions returns the gated ops (a gate's pair joined, by its first
// node's type) and join, which applies the first fusion of first and then
// that takes c and g.
func gateFusions(t *testing.T) (map[string]Op, func(first, then string, c, g Op) (Op, bool)) {
	gates := map[string]Op{}
	for _, f := range Fusions() {
		if f.Gate && f.Then == "Mul" {
			g, mul := newOp(t, f.First, nil, 13, 1, 1), newOp(t, "Mul", nil, 14, 2, 1)
			fused, ok := f.Join(g, mul, nil, false)
			if !ok {
				t.Fatalf("%s refused its own pair", f.Name)
			}
			gates[f.First] = fused
		}
	}
	if len(gates) != 2 {
		t.Fatalf("gates %v, want Sigmoid's and HardSigmoid's", gates)
	}
	join := func(first, then string, c, g Op) (Op, bool) {
		for _, f := range Fusions() {
			if f.First == first && f.Then == then {
				if op, ok := f.Join(c, g, nil, false); ok {
					return op, true
				}
			}
		}
		return nil, false
	}
	return gates, join
}

// TestConvGateRefusals: a plain Sigmoid does not join a Conv as a gate,
// nor a Relu or a pool a gated Conv (ops/convgate.go).
func TestConvGateRefusals(t *testing.T) {
	gates, join := gateFusions(t)
	if _, ok := join("Conv", "Sigmoid", newOp(t, "Conv", nil, 13, 3, 1), newOp(t, "Sigmoid", nil, 13, 1, 1)); ok {
		t.Error("a plain Sigmoid joined a Conv as a gate")
	}
	gated, ok := join("Conv", "Sigmoid", newOp(t, "Conv", nil, 13, 3, 1), gates["Sigmoid"])
	if !ok {
		t.Fatal("no fusion joins a Conv and a SiLU gate")
	}
	if _, ok := fuseRelu(gated); ok {
		t.Error("fuseRelu joined a Relu to a gated Conv")
	}
	if _, ok := fusePool(gated, newOp(t, "MaxPool", attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, 13, 1, 1), []int{1, 8, 8, 8}, []int{8, 8, 3, 3}, true); ok {
		t.Error("fusePool joined a pool to a gated Conv")
	}
}

// TestConvGateFusion checks the Conv+gate fusion (convgate.go): a Conv
// with a SiLU or HardSwish gate folded in gives the output of the two
// nodes apart bit for bit, and the same gradients of the input, the
// weights and the bias, on the vector kernels and off them.
func TestConvGateFusion(t *testing.T) {
	gates, join := gateFusions(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, first := range []string{"Sigmoid", "HardSigmoid"} {
		for _, test := range []struct {
			name string
			a    attrs
			x, w []int
		}{
			{"3x3", attrs{"pads": []int64{1, 1, 1, 1}}, []int{2, 3, 9, 10}, []int{5, 3, 3, 3}},
			{"depthwise strided", attrs{"group": 4, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, []int{2, 4, 11, 9}, []int{4, 1, 3, 3}},
			{"1x1", nil, []int{3, 16, 7, 7}, []int{24, 16, 1, 1}},
			{"squeeze-excite", nil, []int{4, 12, 1, 1}, []int{6, 12, 1, 1}}, // the batch strategy's gradients
		} {
			for _, kernels := range []bool{false, true} {
				name := first + " " + test.name
				in := []*Tensor{randTensor(rng, -3, 3, test.x...), randTensor(rng, -1, 1, test.w...), randTensor(rng, -1, 1, test.w[0])}
				gate := gates[first]
				conv := newOp(t, "Conv", test.a, 13, 3, 1)
				fused, ok := join("Conv", first, newOp(t, "Conv", test.a, 13, 3, 1), gate)
				if !ok {
					t.Fatalf("%s: the fusion refused Conv and its gate", name)
				}
				r := runFused(t, rng, conv, gate, fused, in, kernels)
				if !slices.Equal(r.fused.Data, r.apart.Data) {
					t.Errorf("%s, kernels %v: fused output differs from the gate of the Conv", name, kernels)
				}
				for i, what := range []string{"dX", "dW", "dB"} {
					if !slices.Equal(r.gradFused[i].Data, r.gradApart[i].Data) {
						t.Errorf("%s, kernels %v: %s differs from the two nodes'", name, kernels, what)
					}
				}
			}
		}
	}
}
