package ops

import (
	"math/rand/v2"
	"testing"
)

// TestActivationGradients checks Celu, ThresholdedRelu, Shrink, Softsign
// and Mish against finite differences, inputs kept away from their kinks.
func TestActivationGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 3))
	r := func(shape ...int) *Tensor { return randTensor(rng, -3, 3, shape...) }
	for _, test := range []struct {
		name  string
		op    string
		attrs attrs
		opset int64
		x     *Tensor
	}{
		{"celu", "Celu", nil, 12, awayFrom(r(3, 4), 0.05, 0)},
		{"celu alpha 2", "Celu", attrs{"alpha": 2.0}, 12, awayFrom(r(2, 5), 0.05, 0)},
		{"celu negative alpha", "Celu", attrs{"alpha": -0.5}, 12, awayFrom(r(2, 5), 0.05, 0)},
		{"thresholdedrelu", "ThresholdedRelu", nil, 10, awayFrom(r(3, 4), 0.05, 1)},
		{"thresholdedrelu alpha", "ThresholdedRelu", attrs{"alpha": -0.5}, 10, awayFrom(r(12), 0.05, -0.5)},
		{"shrink soft", "Shrink", attrs{"bias": 1.5, "lambd": 1.5}, 9, awayFrom(r(3, 4), 0.05, -1.5, 1.5)},
		{"shrink hard", "Shrink", nil, 9, awayFrom(r(3, 4), 0.05, -0.5, 0.5)},
		{"softsign", "Softsign", nil, 1, awayFrom(r(3, 4), 0.05, 0)},
		{"mish", "Mish", nil, 18, r(3, 4)},
	} {
		gradCheck(t, test.name, newOp(t, test.op, test.attrs, test.opset, 1, 1), []*Tensor{test.x})
	}
}

// TestStepFunctionsPassZeroGradient checks the documented convention:
// Floor, Ceil, Round, Sign (floor.go) and Hardmax pass back 0.
func TestStepFunctionsPassZeroGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, test := range []struct {
		op    string
		opset int64
	}{{"Floor", 13}, {"Ceil", 13}, {"Round", 11}, {"Sign", 13}, {"Hardmax", 13}} {
		op := newOp(t, test.op, nil, test.opset, 1, 1)
		x := randTensor(rng, -3, 3, 4, 5)
		s := &State{Grad: true}
		if _, err := op.Forward(s, []*Tensor{x}); err != nil {
			t.Fatalf("%s: %v", test.op, err)
		}
		g, err := op.Backward(s, []*Tensor{randTensor(rng, -1, 1, 4, 5)})
		if err != nil {
			t.Fatalf("%s: %v", test.op, err)
		}
		for i, v := range g[0].Data {
			if v != 0 {
				t.Fatalf("%s: gradient[%d] = %g, want 0", test.op, i, v)
			}
		}
	}
}

// TestActivationRejects checks attribute values that have no meaning.
func TestActivationRejects(t *testing.T) {
	nan := float32(0)
	nan /= nan
	for _, test := range []struct {
		op    string
		attrs attrs
		opset int64
	}{
		{"Celu", attrs{"alpha": 0.0}, 12},
		{"Celu", attrs{"alpha": nan}, 12},
		{"ThresholdedRelu", attrs{"alpha": nan}, 10},
		{"Shrink", attrs{"lambd": nan}, 9},
		{"Shrink", attrs{"bias": nan}, 9},
		{"Celu", attrs{"alpha": int64(2)}, 12}, // an INT where a FLOAT belongs
		{"Mish", nil, 17},                      // before Mish existed
	} {
		if _, err := New(makeNode(t, test.op, test.attrs, 1, 1), test.opset, ""); err == nil {
			t.Errorf("%s %v at opset %d: accepted", test.op, test.attrs, test.opset)
		}
	}
}

// TestMishValues checks Mish, which has no ONNX node test before opset 18,
// against values computed by hand: x·tanh(log(1+eˣ)).
func TestMishValues(t *testing.T) {
	outs, err := newOp(t, "Mish", nil, 18, 1, 1).Forward(&State{}, []*Tensor{nnFloats([]int{4}, -1, 0, 1, 30)})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "Mish", outs[0], nnFloats([]int{4}, -0.30340147, 0, 0.86509839, 30))
}
