package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// int64s returns a rank-1 int64 tensor, the form shape inputs take.
func int64s(v ...int64) *Tensor { return NewInts([]int{len(v)}, v) }

func TestShapeOpGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r := func(shape ...int) *Tensor { return randTensor(rng, -1, 1, shape...) }
	cond := func(shape []int, v ...int64) *Tensor { return NewInts(shape, v) }
	for _, test := range []struct {
		name  string
		op    string
		opset int64
		attrs attrs
		in    []*Tensor
		nOut  int
	}{
		{"flatten default", "Flatten", 13, nil, []*Tensor{r(2, 3, 4)}, 1},
		{"flatten negative axis", "Flatten", 13, attrs{"axis": -1}, []*Tensor{r(2, 3, 2, 2)}, 1},
		{"flatten axis 0", "Flatten", 9, attrs{"axis": 0}, []*Tensor{r(3, 2)}, 1},
		{"reshape inferred", "Reshape", 13, nil, []*Tensor{r(2, 3, 4), int64s(0, -1, 2)}, 1},
		{"reshape attribute", "Reshape", 1, attrs{"shape": []int64{4, 6}}, []*Tensor{r(2, 3, 4)}, 1},
		{"transpose default", "Transpose", 13, nil, []*Tensor{r(2, 3, 4)}, 1},
		{"transpose perm", "Transpose", 13, attrs{"perm": []int64{0, 2, 3, 1}}, []*Tensor{r(2, 3, 4, 5)}, 1},
		{"transpose keeps inner axis", "Transpose", 13, attrs{"perm": []int64{1, 0, 2}}, []*Tensor{r(3, 4, 5)}, 1},
		{"squeeze axes input", "Squeeze", 13, nil, []*Tensor{r(2, 1, 3, 1), int64s(-1)}, 1},
		{"squeeze all", "Squeeze", 11, nil, []*Tensor{r(1, 3, 1, 2)}, 1},
		{"unsqueeze axes input", "Unsqueeze", 13, nil, []*Tensor{r(2, 3), int64s(0, -1)}, 1},
		{"unsqueeze attribute", "Unsqueeze", 11, attrs{"axes": []int64{1}}, []*Tensor{r(4)}, 1},
		{"concat axis 1", "Concat", 13, attrs{"axis": 1}, []*Tensor{r(2, 3, 2), r(2, 1, 2), r(2, 4, 2)}, 1},
		{"concat negative axis", "Concat", 13, attrs{"axis": -1}, []*Tensor{r(3, 2), r(3, 5)}, 1},
		{"split equal", "Split", 13, attrs{"axis": 1}, []*Tensor{r(2, 6, 2)}, 3},
		{"split sizes input", "Split", 13, nil, []*Tensor{r(5, 3), int64s(2, 0, 3)}, 3},
		{"split num_outputs", "Split", 18, attrs{"num_outputs": 3, "axis": -1}, []*Tensor{r(2, 7)}, 3},
		{"slice inputs", "Slice", 13, nil, []*Tensor{r(4, 5, 6), int64s(1, 0), int64s(3, -1), int64s(0, 2), int64s(1, 2)}, 1},
		{"slice negative steps", "Slice", 13, nil, []*Tensor{r(5, 6), int64s(-1, 4), int64s(math.MinInt64, 0), int64s(0, 1), int64s(-2, -1)}, 1},
		{"slice inner axis", "Slice", 13, nil, []*Tensor{r(3, 4), int64s(1), int64s(3), int64s(-1)}, 1},
		{"slice attributes", "Slice", 9, attrs{"starts": []int64{1}, "ends": []int64{math.MaxInt64}, "axes": []int64{0}}, []*Tensor{r(4, 3)}, 1},
		{"gather rows", "Gather", 13, nil, []*Tensor{r(5, 3), NewInts([]int{2, 2}, []int64{4, -5, 1, 2})}, 1},
		{"gather repeated indices", "Gather", 13, attrs{"axis": 1}, []*Tensor{r(2, 4, 3), int64s(1, 3, 1, 1)}, 1},
		{"expand", "Expand", 13, nil, []*Tensor{r(3, 1), int64s(2, 3, 4)}, 1},
		{"expand keeps dims", "Expand", 8, nil, []*Tensor{r(1, 4, 1), int64s(3, 1, 2)}, 1},
		{"tile", "Tile", 13, nil, []*Tensor{r(2, 3), int64s(2, 3)}, 1},
		{"tile once", "Tile", 6, nil, []*Tensor{r(2, 1, 3), int64s(1, 4, 1)}, 1},
		{"where", "Where", 16, nil, []*Tensor{cond([]int{2, 3}, 1, 0, 0, 1, 1, 0), r(2, 3), r(2, 3)}, 1},
		{"where broadcast", "Where", 9, nil, []*Tensor{cond([]int{3, 1}, 0, 1, 1), r(1, 4), r(3, 4)}, 1},
		{"depth to space DCR", "DepthToSpace", 13, attrs{"blocksize": 2}, []*Tensor{r(2, 8, 2, 3)}, 1},
		{"depth to space CRD", "DepthToSpace", 13, attrs{"blocksize": 2, "mode": "CRD"}, []*Tensor{r(1, 8, 3, 2)}, 1},
		{"space to depth", "SpaceToDepth", 13, attrs{"blocksize": 2}, []*Tensor{r(2, 3, 4, 2)}, 1},
	} {
		gradCheck(t, test.name, newOp(t, test.op, test.attrs, test.opset, len(test.in), test.nOut), test.in)
	}
}

// forwardOnce builds op at opset and runs it forward once.
func forwardOnce(t *testing.T, op string, a attrs, opset int64, in ...*Tensor) *Tensor {
	t.Helper()
	out, err := newOp(t, op, a, opset, len(in), 1).Forward(&State{}, in)
	if err != nil {
		t.Fatalf("%s at opset %d: %v", op, opset, err)
	}
	return out[0]
}

// TestFlattenShapeArithmetic runs what PyTorch exports for x.view(x.size(0), -1):
// Shape → Gather(0) → Unsqueeze → Concat with [-1] → Reshape, on int64 tensors.
func TestFlattenShapeArithmetic(t *testing.T) {
	for _, test := range []struct {
		opset int64
		in    []int
		want  []int
	}{
		{11, []int{4, 3, 2, 2}, []int{4, 12}},
		{13, []int{4, 3, 2, 2}, []int{4, 12}},
		{13, []int{1, 5}, []int{1, 5}},
	} {
		x := randTensor(rand.New(rand.NewPCG(1, 2)), -1, 1, test.in...)
		shape := forwardOnce(t, "Shape", nil, test.opset, x)
		batch := forwardOnce(t, "Gather", attrs{"axis": 0}, test.opset, shape, NewInts([]int{}, []int64{0}))
		var dim *Tensor
		if test.opset < 13 {
			dim = forwardOnce(t, "Unsqueeze", attrs{"axes": []int64{0}}, test.opset, batch)
		} else {
			dim = forwardOnce(t, "Unsqueeze", nil, test.opset, batch, int64s(0))
		}
		target := forwardOnce(t, "Concat", attrs{"axis": 0}, test.opset, dim, int64s(-1))
		y := forwardOnce(t, "Reshape", nil, test.opset, x, target)
		if !target.IsInt() || !slices.Equal(target.Ints, []int64{int64(test.in[0]), -1}) {
			t.Errorf("opset %d, input %v: target shape %v %v, want [%d -1]", test.opset, test.in, target, target.Ints, test.in[0])
		}
		if !slices.Equal(y.Shape, test.want) || !slices.Equal(y.Data, x.Data) {
			t.Errorf("opset %d, input %v: got %v, want shape %v with the input's values", test.opset, test.in, y, test.want)
		}
		if &y.Data[0] != &x.Data[0] {
			t.Errorf("opset %d: Reshape copied its input", test.opset)
		}
	}
}

func TestShapeOpValues(t *testing.T) {
	iota := func(shape ...int) *Tensor {
		x := NewInts(shape, make([]int64, Numel(shape)))
		for i := range x.Ints {
			x.Ints[i] = int64(i)
		}
		return x
	}
	for _, test := range []struct {
		name  string
		op    string
		opset int64
		attrs attrs
		in    []*Tensor
		shape []int
		want  []int64
	}{
		{"slice reverses all", "Slice", 13, nil, []*Tensor{iota(2, 3), int64s(-1, -1), int64s(math.MinInt64, math.MinInt64), int64s(0, 1), int64s(-1, -1)}, []int{2, 3}, []int64{5, 4, 3, 2, 1, 0}},
		{"slice step 2 from end", "Slice", 10, nil, []*Tensor{iota(7), int64s(math.MaxInt64), int64s(-8), nil, int64s(-2)}, []int{4}, []int64{6, 4, 2, 0}},
		{"slice empty", "Slice", 13, nil, []*Tensor{iota(4), int64s(3), int64s(1)}, []int{0}, []int64{}},
		{"slice attributes", "Slice", 1, attrs{"starts": []int64{1, -2}, "ends": []int64{2, 100}}, []*Tensor{iota(3, 4)}, []int{1, 2}, []int64{6, 7}},
		{"transpose ints", "Transpose", 13, nil, []*Tensor{iota(2, 3)}, []int{3, 2}, []int64{0, 3, 1, 4, 2, 5}},
		{"squeeze ints attr", "Squeeze", 11, attrs{"axes": []int64{-1}}, []*Tensor{iota(3, 1)}, []int{3}, []int64{0, 1, 2}},
		{"reshape allowzero", "Reshape", 14, attrs{"allowzero": 1}, []*Tensor{iota(0, 3), int64s(3, 0)}, []int{3, 0}, []int64{}},
		{"reshape copies dim", "Reshape", 14, nil, []*Tensor{iota(2, 3), int64s(0, 3)}, []int{2, 3}, []int64{0, 1, 2, 3, 4, 5}},
		{"expand ints", "Expand", 13, nil, []*Tensor{iota(2, 1), int64s(2, 3)}, []int{2, 3}, []int64{0, 0, 0, 1, 1, 1}},
		{"tile ints", "Tile", 13, nil, []*Tensor{iota(2), int64s(3)}, []int{6}, []int64{0, 1, 0, 1, 0, 1}},
		{"gather negative", "Gather", 11, attrs{"axis": 1}, []*Tensor{iota(2, 3), int64s(-1, 0)}, []int{2, 2}, []int64{2, 0, 5, 3}},
		{"range ints", "Range", 11, nil, []*Tensor{NewInts(nil, []int64{10}), NewInts(nil, []int64{3}), NewInts(nil, []int64{-3})}, []int{3}, []int64{10, 7, 4}},
		{"range empty", "Range", 11, nil, []*Tensor{NewInts(nil, []int64{3}), NewInts(nil, []int64{3}), NewInts(nil, []int64{1})}, []int{0}, []int64{}},
		{"where ints", "Where", 9, nil, []*Tensor{int64s(1, 0, 1), iota(3), NewInts(nil, []int64{-1})}, []int{3}, []int64{0, -1, 2}},
		{"equal mixed", "Equal", 13, nil, []*Tensor{iota(3), {Shape: []int{1}, Data: []float32{1}}}, []int{3}, []int64{0, 1, 0}},
		{"greater broadcast", "Greater", 9, nil, []*Tensor{iota(2, 2), int64s(1, 2)}, []int{2, 2}, []int64{0, 0, 1, 1}},
		{"less or equal", "LessOrEqual", 16, nil, []*Tensor{iota(3), int64s(1)}, []int{3}, []int64{1, 1, 0}},
		{"not", "Not", 1, nil, []*Tensor{int64s(0, 1, 1)}, []int{3}, []int64{1, 0, 0}},
		{"argmax last index", "ArgMax", 13, attrs{"axis": -1, "keepdims": 0, "select_last_index": 1}, []*Tensor{NewInts([]int{2, 3}, []int64{1, 3, 3, 2, 2, 0})}, []int{2}, []int64{2, 1}},
		{"size", "Size", 13, nil, []*Tensor{iota(2, 3, 4)}, []int{}, []int64{24}},
		{"shape start end", "Shape", 15, attrs{"start": -3, "end": -1}, []*Tensor{iota(2, 3, 4, 1)}, []int{2}, []int64{3, 4}},
		{"concat ints", "Concat", 11, attrs{"axis": 0}, []*Tensor{int64s(2), int64s(), int64s(3, -1)}, []int{3}, []int64{2, 3, -1}},
		{"flatten ints", "Flatten", 13, attrs{"axis": 2}, []*Tensor{iota(2, 1, 3)}, []int{2, 3}, []int64{0, 1, 2, 3, 4, 5}},
	} {
		y := forwardOnce(t, test.op, test.attrs, test.opset, test.in...)
		if !y.IsInt() || !slices.Equal(y.Shape, test.shape) || !slices.Equal(y.Ints, test.want) {
			t.Errorf("%s: got %v %v, want int%v %v", test.name, y, y.Ints, ShapeString(test.shape), test.want)
		}
	}
}

func TestSplitOutputs(t *testing.T) {
	x := randTensor(rand.New(rand.NewPCG(1, 2)), -1, 1, 2, 7)
	op := newOp(t, "Split", attrs{"num_outputs": 3, "axis": 1}, 18, 1, 3)
	s := &State{Grad: true}
	ys, err := op.Forward(s, []*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{3, 3, 1} {
		if ys[i].Shape[1] != want {
			t.Errorf("piece %d: shape %v, want [2 %d]", i, ys[i].Shape, want)
		}
	}
	// An output the loss never reads brings no gradient; its part is zero.
	one := NewFloat(2, 3)
	for i := range one.Data {
		one.Data[i] = 1
	}
	g, err := op.Backward(s, []*Tensor{nil, one, nil})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range g[0].Data {
		if want := float32(0); i%7 >= 3 && i%7 < 6 {
			want = 1
			if v != want {
				t.Errorf("gradient %d = %g, want %g", i, v, want)
			}
		} else if v != want {
			t.Errorf("gradient %d = %g, want %g", i, v, want)
		}
	}
}

func TestShapeOpErrors(t *testing.T) {
	for _, test := range []struct {
		name  string
		op    string
		opset int64
		attrs attrs
		in    []*Tensor
		want  string
	}{
		{"reshape mismatch", "Reshape", 13, nil, []*Tensor{NewFloat(2, 3), int64s(4, 2)}, "6 elements"},
		{"reshape two -1", "Reshape", 13, nil, []*Tensor{NewFloat(2, 3), int64s(-1, -1)}, "more than one -1"},
		{"reshape not inferable", "Reshape", 13, nil, []*Tensor{NewFloat(2, 3), int64s(4, -1)}, "cannot be inferred"},
		{"squeeze non-unit", "Squeeze", 13, nil, []*Tensor{NewFloat(2, 3), int64s(1)}, "not 1"},
		{"split uneven", "Split", 13, nil, []*Tensor{NewFloat(5)}, "equal parts"},
		{"gather out of range", "Gather", 13, nil, []*Tensor{NewFloat(3), int64s(3)}, "out of range"},
		{"slice zero step", "Slice", 13, nil, []*Tensor{NewFloat(3), int64s(0), int64s(3), int64s(0), int64s(0)}, "zero"},
		{"concat mixed", "Concat", 13, attrs{"axis": 0}, []*Tensor{NewFloat(2), int64s(1)}, "mix"},
		{"expand incompatible", "Expand", 13, nil, []*Tensor{NewFloat(3), int64s(2)}, "broadcast"},
		{"transpose bad perm", "Transpose", 13, attrs{"perm": []int64{0, 0}}, []*Tensor{NewFloat(2, 2)}, "permutation"},
	} {
		nOut := 1
		if test.op == "Split" {
			nOut = 2
		}
		_, err := newOp(t, test.op, test.attrs, test.opset, len(test.in), nOut).Forward(&State{}, test.in)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got error %v, want one containing %q", test.name, err, test.want)
		}
	}
}

// TestTransposeLayouts checks Transpose against index arithmetic on shapes
// that take each of permuteInto's paths: contiguous runs, short strides,
// and tiles with ragged edges.
func TestTransposeLayouts(t *testing.T) {
	for _, test := range []struct {
		shape, perm []int
	}{
		{[]int{3, 4, 5}, []int{1, 0, 2}},
		{[]int{2, 3, 4}, []int{0, 2, 1}},
		{[]int{37, 41}, []int{1, 0}},
		{[]int{2, 20, 5, 7}, []int{0, 2, 3, 1}},
		{[]int{2, 5, 7, 20}, []int{0, 3, 1, 2}},
		{[]int{3, 1, 18, 1, 19}, []int{4, 3, 0, 2, 1}},
	} {
		x := NewFloat(test.shape...)
		for i := range x.Data {
			x.Data[i] = float32(i)
		}
		perm := make([]int64, len(test.perm))
		for i, p := range test.perm {
			perm[i] = int64(p)
		}
		y := forwardOnce(t, "Transpose", attrs{"perm": perm}, 13, x)
		st, yst := strides(test.shape), strides(y.Shape)
		for k, got := range y.Data {
			src := 0
			for ax, p := range test.perm {
				src += (k / yst[ax] % y.Shape[ax]) * st[p]
			}
			if got != x.Data[src] {
				t.Errorf("shape %v perm %v: element %d = %g, want %g", test.shape, test.perm, k, got, x.Data[src])
				break
			}
		}
	}
}

func BenchmarkTransposeNCHWToNHWC(b *testing.B) {
	benchmarkTranspose(b, []int{32, 64, 32, 32}, []int64{0, 2, 3, 1})
}
func BenchmarkTransposeNHWCToNCHW(b *testing.B) {
	benchmarkTranspose(b, []int{32, 32, 32, 64}, []int64{0, 3, 1, 2})
}
func BenchmarkTransposeLastTwo(b *testing.B) {
	benchmarkTranspose(b, []int{32, 256, 256}, []int64{0, 2, 1})
}

func benchmarkTranspose(b *testing.B, shape []int, perm []int64) {
	x := randTensor(rand.New(rand.NewPCG(1, 2)), -1, 1, shape...)
	op := newOp(b, "Transpose", attrs{"perm": perm}, 13, 1, 1)
	in := []*Tensor{x}
	b.SetBytes(int64(4 * x.Len()))
	for b.Loop() {
		if _, err := op.Forward(&State{}, in); err != nil {
			b.Fatal(err)
		}
	}
}
