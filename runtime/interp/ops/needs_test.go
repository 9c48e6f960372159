package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSavesOnlyWhatWantedGradientsRead runs each op's forward pass knowing
// which gradients the backward pass wants (State.Need, set before Forward as
// the executor sets it), poisons every input and output it did not save,
// and checks that the wanted gradients are bit-identical to those of a pass
// that wants and keeps everything: an op that saves less for a partial want
// must still read only what it saved.
func TestSavesOnlyWhatWantedGradientsRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 4))
	r := func(shape ...int) *Tensor { return randTensor(rng, -1, 1, shape...) }
	pos := func(shape ...int) *Tensor { return randTensor(rng, 0.5, 1.5, shape...) }
	for _, test := range []struct {
		name  string
		op    Op
		in    []*Tensor
		needs [][]bool
	}{
		{"matmul folded", newOp(t, "MatMul", nil, 13, 2, 1), []*Tensor{r(2, 3, 4), r(4, 5)}, [][]bool{{true, false}, {false, true}}},
		{"matmul batched", newOp(t, "MatMul", nil, 13, 2, 1), []*Tensor{r(2, 2, 3, 4), r(2, 1, 4, 5)}, [][]bool{{true, false}, {false, true}}},
		{"gemm", newOp(t, "Gemm", nil, 13, 3, 1), []*Tensor{r(3, 4), r(4, 2), r(2)}, [][]bool{{true, false, false}, {false, true, true}, {false, false, true}}},
		{"gemm transposed", newOp(t, "Gemm", attrs{"transA": 1, "transB": 1}, 13, 3, 1), []*Tensor{r(4, 3), r(2, 4), r(2)}, [][]bool{{true, false, false}, {false, true, false}}},
		{"pow square", newOp(t, "Pow", nil, 13, 2, 1), []*Tensor{r(2, 3, 4), nnFloats([]int{1}, 2)}, [][]bool{{true, false}}},
		{"pow broadcast", newOp(t, "Pow", nil, 13, 2, 1), []*Tensor{pos(2, 3, 4), pos(4)}, [][]bool{{true, false}, {false, true}}},
		{"reducemean", newOp(t, "ReduceMean", attrs{"axes": []int64{-1}}, 13, 1, 1), []*Tensor{r(2, 3, 4)}, [][]bool{{true}}},
		{"reducesum all", newOp(t, "ReduceSum", nil, 11, 1, 1), []*Tensor{r(2, 3, 4)}, [][]bool{{true}}},
		{"reducemax", newOp(t, "ReduceMax", attrs{"axes": []int64{1}}, 13, 1, 1), []*Tensor{r(2, 3, 4)}, [][]bool{{true}}},
		{"reducel2", newOp(t, "ReduceL2", attrs{"axes": []int64{1}}, 13, 1, 1), []*Tensor{pos(2, 3, 4)}, [][]bool{{true}}},
		{"div rows", newOp(t, "Div", nil, 14, 2, 1), []*Tensor{r(2, 3, 4), pos(2, 3, 1)}, [][]bool{{true, true}, {false, true}}},
		{"div broadcast", newOp(t, "Div", nil, 14, 2, 1), []*Tensor{r(3, 1), pos(2, 1, 4)}, [][]bool{{false, true}}},
		{"mul columns", newOp(t, "Mul", nil, 14, 2, 1), []*Tensor{r(2, 3, 4), r(4)}, [][]bool{{true, false}, {false, true}}},
		{"div columns first", newOp(t, "Div", nil, 14, 2, 1), []*Tensor{r(3, 4), pos(2, 3, 4)}, [][]bool{{true, false}, {false, true}}},
		{"mul layer scale", newOp(t, "Mul", nil, 14, 2, 1), []*Tensor{r(3, 1, 1), r(2, 3, 2, 2)}, [][]bool{{false, true}, {true, false}}},
		{"sqrt", newOp(t, "Sqrt", nil, 13, 1, 1), []*Tensor{pos(2, 3)}, [][]bool{{true}}},
		{"erf", newOp(t, "Erf", nil, 13, 1, 1), []*Tensor{r(2, 3, 4)}, [][]bool{{true}}},
		{"gelu", newOp(t, "Gelu", nil, 20, 1, 1), []*Tensor{r(2, 3, 4)}, [][]bool{{true}}},
	} {
		dy := func(y []*Tensor) []*Tensor {
			g := rand.New(rand.NewPCG(7, 7))
			return []*Tensor{randTensor(g, -1, 1, y[0].Shape...)}
		}
		s := &State{Grad: true}
		y, err := test.op.Forward(s, test.in)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		all, err := test.op.Backward(s, dy(y))
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		for _, need := range test.needs {
			s := &State{Grad: true, Need: need}
			y, err := test.op.Forward(s, test.in)
			if err != nil {
				t.Fatalf("%s: %v", test.name, err)
			}
			restore := poisonUnsaved(s, test.in, y)
			got, err := test.op.Backward(s, dy(y))
			restore()
			if err != nil {
				t.Fatalf("%s, need %v: %v", test.name, need, err)
			}
			for i, want := range need {
				switch {
				case !want:
				case i >= len(got) || got[i] == nil:
					t.Errorf("%s, need %v: gradient %d missing", test.name, need, i)
				case !slices.Equal(got[i].Shape, all[i].Shape) || !slices.Equal(got[i].Data, all[i].Data):
					t.Errorf("%s, need %v: gradient %d is %v, want %v", test.name, need, i, got[i].Data, all[i].Data)
				}
			}
		}
	}
}

// TestDivGradientReadsTheForwardQuotient checks that Div's gradient for
// the divisor, computed from a and b, has the bits of -dy·y/b computed
// from the quotient y the forward pass wrote.
func TestDivGradientReadsTheForwardQuotient(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 5))
	a, b := randTensor(rng, -3, 3, 4, 5, 6), randTensor(rng, 0.1, 3, 4, 5, 6)
	op := newOp(t, "Div", nil, 14, 2, 1)
	s := &State{Grad: true, Need: []bool{false, true}}
	y, err := op.Forward(s, []*Tensor{a, b})
	if err != nil {
		t.Fatal(err)
	}
	dy := randTensor(rng, -1, 1, y[0].Shape...)
	g, err := op.Backward(s, []*Tensor{dy})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range g[1].Data {
		if want := dy.Data[k] * (-y[0].Data[k] / b.Data[k]); v != want {
			t.Fatalf("db[%d] = %v, want -dy·y/b = %v", k, v, want)
		}
	}
}
