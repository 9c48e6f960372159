package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// TestTensorOpGradients checks Mod, CumSum, Trilu and OneHot (its values)
// against finite differences.
func TestTensorOpGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2))
	r := func(shape ...int) *Tensor { return randTensor(rng, -2, 2, shape...) }
	// Mod's divisor kept in [0.7, 1.3]·sign and the quotient away from
	// integers, so no step crosses a jump.
	modIn := func() []*Tensor {
		a, b := r(3, 4), randTensor(rng, 0.7, 1.3, 4)
		b.Data[1] = -b.Data[1]
		for i := range a.Data {
			q := a.Data[i] / b.Data[i%4]
			if f := q - float32(int(q)); f > -0.1 && f < 0.1 {
				a.Data[i] += 0.3 * b.Data[i%4]
			}
		}
		return []*Tensor{a, b}
	}
	for _, test := range []opCase{
		{"mod fmod", "Mod", attrs{"fmod": 1}, 13, modIn()},
		{"cumsum axis 1", "CumSum", nil, 14, []*Tensor{r(3, 4, 2), nnInts(1)}},
		{"cumsum exclusive reverse", "CumSum", attrs{"exclusive": 1, "reverse": 1}, 14, []*Tensor{r(3, 4), nnInts(-1)}},
		{"cumsum reverse", "CumSum", attrs{"reverse": 1}, 11, []*Tensor{r(5), NewInts(nil, []int64{0})}},
		{"tril k=1", "Trilu", attrs{"upper": 0}, 14, []*Tensor{r(2, 3, 4), NewInts(nil, []int64{1})}},
		{"triu", "Trilu", nil, 14, []*Tensor{r(4, 3)}},
		{"onehot values", "OneHot", attrs{"axis": 1}, 11, []*Tensor{nnInts(0, 2, -1, 5), NewInts(nil, []int64{3}), r(2)}},
	} {
		gradCheck(t, test.name, test.newOp(t), test.in)
	}
}

// TestTensorOpValues checks cases the node tests leave out.
func TestTensorOpValues(t *testing.T) {
	run := func(op string, a attrs, opset int64, in ...*Tensor) *Tensor {
		t.Helper()
		outs, err := newOp(t, op, a, opset, len(in), 1).Forward(&State{}, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return outs[0]
	}
	if got := run("Mod", nil, 13, nnInts(-7, 7, -7, 7), nnInts(3, 3, -3, -3)); fmtInts(got) != "[2 1 -1 -2]" {
		t.Errorf("Mod (Python sign) = %v, want [2 1 -1 -2]", fmtInts(got))
	}
	if got := run("Mod", attrs{"fmod": 1}, 13, nnInts(-7, 7, -7, 7), nnInts(3, 3, -3, -3)); fmtInts(got) != "[-1 1 -1 1]" {
		t.Errorf("Mod (C sign) = %v, want [-1 1 -1 1]", fmtInts(got))
	}
	closeTo(t, "Hardmax ties take the first", run("Hardmax", nil, 13, nnFloats([]int{2, 3}, 1, 3, 3, 5, 5, 5)),
		nnFloats([]int{2, 3}, 0, 1, 0, 1, 0, 0))
	closeTo(t, "Hardmax opset 11 flattens", run("Hardmax", attrs{"axis": 1}, 11, nnFloats([]int{1, 2, 2}, 1, 2, 4, 3)),
		nnFloats([]int{1, 2, 2}, 0, 0, 1, 0))
	if got := run("CumSum", nil, 14, nnInts(1, 2, 3), nnInts(0)); fmtInts(got) != "[1 3 6]" {
		t.Errorf("CumSum of integers = %v, want [1 3 6]", fmtInts(got))
	}
	if got := run("OneHot", nil, 11, nnInts(1, 7), nnInts(3), nnInts(0, 9)); fmtInts(got) != "[0 9 0 0 0 0]" {
		t.Errorf("OneHot with integer values and an index past depth = %v, want [0 9 0 0 0 0]", fmtInts(got))
	}
}

func fmtInts(t *Tensor) string {
	if t == nil || !t.IsInt() {
		return "not integers"
	}
	return fmt.Sprint(t.Ints)
}

// TestTensorOpRejects checks attribute values and inputs with no meaning:
// errors, never panics.
func TestTensorOpRejects(t *testing.T) {
	for _, test := range []struct {
		op    string
		attrs attrs
		opset int64
	}{
		{"Mod", attrs{"fmod": 2}, 13},
		{"CumSum", attrs{"exclusive": -1}, 14},
		{"CumSum", attrs{"reverse": 2}, 14},
		{"Trilu", attrs{"upper": 5}, 14},
		{"Trilu", nil, 13},
		{"IsInf", attrs{"detect_negative": 2}, 10},
		{"IsInf", attrs{"detect_positive": -1}, 10},
		{"ArgMin", attrs{"axis": "0"}, 13}, // a STRING where an INT belongs
		{"CastLike", nil, 13},              // before CastLike existed
	} {
		if _, err := New(makeNode(t, test.op, test.attrs, 2, 1), test.opset, ""); err == nil {
			t.Errorf("%s %v at opset %d: accepted", test.op, test.attrs, test.opset)
		}
	}
	rng := rand.New(rand.NewPCG(1, 9))
	x := randTensor(rng, -1, 1, 2, 3)
	for _, test := range []opCase{
		{"Mod by integer zero", "Mod", nil, 13, []*Tensor{nnInts(1, 2), nnInts(1, 0)}},
		{"Mod of floats without fmod", "Mod", nil, 13, []*Tensor{x, x}},
		{"Hardmax axis out of range", "Hardmax", attrs{"axis": 2}, 13, []*Tensor{x}},
		{"Hardmax of a scalar", "Hardmax", nil, 13, []*Tensor{randTensor(rng, 0, 1)}},
		{"CumSum axis out of range", "CumSum", nil, 14, []*Tensor{x, nnInts(2)}},
		{"CumSum float axis", "CumSum", nil, 14, []*Tensor{x, nnFloats([]int{1}, 0)}},
		{"CumSum two axes", "CumSum", nil, 14, []*Tensor{x, nnInts(0, 1)}},
		{"Trilu of a vector", "Trilu", nil, 14, []*Tensor{randTensor(rng, 0, 1, 3)}},
		{"Trilu huge k", "Trilu", nil, 14, []*Tensor{x, nnInts(1 << 62)}},
		{"OneHot depth 0", "OneHot", nil, 11, []*Tensor{nnInts(0), nnInts(0), nnInts(0, 1)}},
		{"OneHot negative depth", "OneHot", nil, 11, []*Tensor{nnInts(0), nnFloats([]int{1}, -3), nnInts(0, 1)}},
		{"OneHot huge depth", "OneHot", nil, 11, []*Tensor{nnInts(0, 1, 2), nnInts(1 << 40), nnInts(0, 1)}},
		{"OneHot three values", "OneHot", nil, 11, []*Tensor{nnInts(0), nnInts(2), nnInts(0, 1, 2)}},
		{"OneHot axis out of range", "OneHot", attrs{"axis": 3}, 11, []*Tensor{nnInts(0), nnInts(2), nnInts(0, 1)}},
		{"CastLike to strings", "CastLike", nil, 15, []*Tensor{x, {Shape: []int{1}, Ints: []int64{0}, Elem: onnx.TensorProto_STRING}}},
		{"ArgMin axis out of range", "ArgMin", attrs{"axis": 2}, 13, []*Tensor{x}},
		{"ArgMin over an empty axis", "ArgMin", nil, 13, []*Tensor{NewFloat(0, 2)}},
		{"IsNaN of integers", "IsNaN", nil, 13, []*Tensor{nnInts(1)}},
	} {
		_, err := test.newOp(t).Forward(&State{}, test.in)
		if test.name == "Trilu huge k" {
			if err != nil {
				t.Errorf("%s: %v (a k past the matrix zeroes it)", test.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", test.name)
		}
	}
}
