package ops

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// trainingMode runs an op as a Program in training mode does, so that
// gradCheck's re-runs use batch statistics too.
type trainingMode struct{ Op }

func (t trainingMode) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	s.Training = true
	return t.Op.Forward(s, in)
}

// distinct fills a tensor with a random permutation of multiples of 0.05,
// so no two values are closer than gradCheck's step can cross: max pooling
// has no ties to flip.
func distinct(rng *rand.Rand, shape ...int) *Tensor {
	x := NewFloat(shape...)
	for i, p := range rng.Perm(len(x.Data)) {
		x.Data[i] = 0.05 * float32(p-len(x.Data)/2)
	}
	return x
}

func nnInts(v ...int64) *Tensor { return NewInts([]int{len(v)}, v) }

func nnFloats(shape []int, v ...float32) *Tensor { return &Tensor{Shape: shape, Data: v} }

// forwardNN runs one op forward and returns its outputs.
func forwardNN(t *testing.T, op Op, s *State, in ...*Tensor) []*Tensor {
	t.Helper()
	outs, err := op.Forward(s, in)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

// Ties in max pooling: the first maximum in row-major window order takes
// the whole gradient, in every window.
func TestMaxPoolTies(t *testing.T) {
	for i, test := range []struct {
		attrs attrs
		x     *Tensor
		want  []float32 // dx for dy of all ones
	}{
		{attrs{"kernel_shape": []int64{2, 2}},
			nnFloats([]int{1, 1, 2, 2}, 3, 3, 3, 3),
			[]float32{1, 0, 0, 0}},
		{attrs{"kernel_shape": []int64{2, 2}},
			nnFloats([]int{1, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1),
			[]float32{1, 1, 0, 1, 1, 0, 0, 0, 0}},
		{attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}},
			nnFloats([]int{1, 1, 2, 4}, 0, 5, 2, 2, 5, 1, 2, 2),
			[]float32{0, 1, 1, 0, 0, 0, 0, 0}},
		{attrs{"kernel_shape": []int64{3}, "pads": []int64{1, 1}},
			nnFloats([]int{1, 1, 3}, -2, -2, -2),
			[]float32{2, 1, 0}},
	} {
		for _, kernels := range []bool{false, true} {
			op := newOp(t, "MaxPool", test.attrs, 12, 1, 1)
			s := &State{Grad: true, Kernels: kernels}
			y := forwardNN(t, op, s, test.x)[0]
			dy := like(y)
			for j := range dy.Data {
				dy.Data[j] = 1
			}
			g, err := op.Backward(s, []*Tensor{dy})
			if err != nil {
				t.Fatal(err)
			}
			for j, w := range test.want {
				if g[0].Data[j] != w {
					t.Errorf("case %d, kernels %v: dx = %v, want %v", i, kernels, g[0].Data, test.want)
					break
				}
			}
		}
	}
}

// TestMaxPoolInference checks that pooling without the winners (inference)
// gives the values pooling with them gives, floats and integers, on sizes
// with a row and a column left over.
func TestMaxPoolInference(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := randTensor(rng, -1, 1, 2, 3, 7, 6)
	xi := NewInts([]int{1, 2, 5, 5}, make([]int64, 50))
	for i := range xi.Ints {
		xi.Ints[i] = rng.Int64N(100) - 50
	}
	for _, in := range []*Tensor{x, xi} {
		op := newOp(t, "MaxPool", attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, 12, 1, 1)
		want := forwardNN(t, op, &State{Grad: true}, in)[0]
		got := forwardNN(t, op, &State{}, in)[0]
		if !slices.Equal(got.Data, want.Data) || !slices.Equal(got.Ints, want.Ints) || !slices.Equal(got.Shape, want.Shape) {
			t.Errorf("%v: inference pooling %v, want %v", in, got, want)
		}
	}
}

func TestMaxPoolIndices(t *testing.T) {
	x := nnFloats([]int{1, 2, 2, 3}, 1, 9, 2, 3, 4, 5, 6, 0, 7, 8, 8, 1)
	for _, test := range []struct {
		order int
		want  []int64
	}{
		{0, []int64{1, 1, 9, 10}},
		{1, []int64{2, 2, 7, 9}},
	} {
		op := newOp(t, "MaxPool", attrs{"kernel_shape": []int64{2, 2}, "storage_order": test.order}, 12, 1, 2)
		outs := forwardNN(t, op, &State{}, x)
		if len(outs) != 2 || !outs[1].IsInt() {
			t.Fatalf("storage_order %d: got %d outputs, want values and indices", test.order, len(outs))
		}
		for j, w := range test.want {
			if outs[1].Ints[j] != w {
				t.Errorf("storage_order %d: indices %v, want %v", test.order, outs[1].Ints, test.want)
				break
			}
		}
	}
}

// A Program in training mode updates the running statistics in place with
// the unbiased variance (PyTorch); a training_mode=1 node returns new ones
// computed with the biased variance (ONNX) and leaves its inputs alone.
func TestBatchNormRunningStats(t *testing.T) {
	x := nnFloats([]int{4, 1}, 1, 2, 3, 6) // mean 3, biased var 3.5, unbiased 14/3
	in := func() []*Tensor {
		return []*Tensor{x, nnFloats([]int{1}, 1), nnFloats([]int{1}, 0), nnFloats([]int{1}, 1), nnFloats([]int{1}, 2)}
	}
	const mom = 0.9
	near := func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-5 }

	inputs := in()
	op := newOp(t, "BatchNormalization", nil, 15, 5, 3)
	outs := forwardNN(t, op, &State{Training: true}, inputs...)
	wantMean, wantVar := float32(mom*1+(1-mom)*3), float32(mom*2+(1-mom)*14.0/3)
	if !near(inputs[3].Data[0], wantMean) || !near(inputs[4].Data[0], wantVar) {
		t.Errorf("program training: running mean, var = %v, %v; want %v, %v in place", inputs[3].Data[0], inputs[4].Data[0], wantMean, wantVar)
	}
	if len(outs) != 3 || outs[1] != inputs[3] || outs[2] != inputs[4] {
		t.Errorf("program training: the running-statistic outputs are not the updated initializers")
	}
	if y := outs[0].Data[3]; !near(y, float32(3/math.Sqrt(3.5+1e-5))) {
		t.Errorf("program training: y[3] = %v, want the batch-normalised %v", y, 3/math.Sqrt(3.5+1e-5))
	}

	inputs = in()
	op = newOp(t, "BatchNormalization", attrs{"training_mode": 1}, 15, 5, 3)
	outs = forwardNN(t, op, &State{}, inputs...)
	if inputs[3].Data[0] != 1 || inputs[4].Data[0] != 2 {
		t.Errorf("training_mode=1: inputs changed to %v, %v", inputs[3].Data[0], inputs[4].Data[0])
	}
	if wantVar = float32(mom*2 + (1-mom)*3.5); !near(outs[1].Data[0], wantMean) || !near(outs[2].Data[0], wantVar) {
		t.Errorf("training_mode=1: running mean, var = %v, %v; want %v, %v", outs[1].Data[0], outs[2].Data[0], wantMean, wantVar)
	}

	inputs = in()
	op = newOp(t, "BatchNormalization", nil, 15, 5, 1)
	outs = forwardNN(t, op, &State{}, inputs...)
	if y := outs[0].Data[3]; !near(y, float32(5/math.Sqrt(2+1e-5))) || inputs[3].Data[0] != 1 {
		t.Errorf("inference: y[3] = %v, want %v from the running statistics", y, 5/math.Sqrt(2+1e-5))
	}
}

// MatMul's output shapes and values against a direct triple loop over the
// broadcast batch.
func TestMatMulValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, test := range []struct {
		a, b, want []int
	}{
		{[]int{3, 4}, []int{4, 2}, []int{3, 2}},
		{[]int{4}, []int{4, 2}, []int{2}},
		{[]int{3, 4}, []int{4}, []int{3}},
		{[]int{4}, []int{4}, []int{}},
		{[]int{2, 1, 3, 4}, []int{5, 4, 2}, []int{2, 5, 3, 2}},
		{[]int{4}, []int{3, 4, 2}, []int{3, 2}},
	} {
		a, b := randTensor(rng, -1, 1, test.a...), randTensor(rng, -1, 1, test.b...)
		y := forwardNN(t, newOp(t, "MatMul", nil, 13, 2, 1), &State{}, a, b)[0]
		if !slices.Equal(y.Shape, test.want) {
			t.Errorf("%v·%v: shape %v, want %v", test.a, test.b, y.Shape, test.want)
			continue
		}
		// Reference: promote to rank ≥ 2, broadcast batches by index.
		as, bs := append([]int(nil), test.a...), append([]int(nil), test.b...)
		if len(as) == 1 {
			as = []int{1, as[0]}
		}
		if len(bs) == 1 {
			bs = []int{bs[0], 1}
		}
		m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
		batch, _ := broadcastShape(as[:len(as)-2], bs[:len(bs)-2])
		ia, ib := broadcastIndex(batch, as[:len(as)-2]), broadcastIndex(batch, bs[:len(bs)-2])
		for tb := 0; tb < Numel(batch); tb++ {
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var want float64
					for l := 0; l < k; l++ {
						want += float64(a.Data[at32(ia, tb)*m*k+i*k+l]) * float64(b.Data[at32(ib, tb)*k*n+l*n+j])
					}
					if got := y.Data[(tb*m+i)*n+j]; math.Abs(float64(got)-want) > 1e-5 {
						t.Errorf("%v·%v: [%d,%d,%d] = %v, want %v", test.a, test.b, tb, i, j, got, want)
					}
				}
			}
		}
	}
}

func TestPadModes(t *testing.T) {
	x := nnFloats([]int{3}, 1, 2, 3)
	for _, test := range []struct {
		mode string
		pads []int64
		want []float32
	}{
		{"constant", []int64{2, 1}, []float32{7, 7, 1, 2, 3, 7}},
		{"constant", []int64{-1, 1}, []float32{2, 3, 7}},
		{"edge", []int64{2, 2}, []float32{1, 1, 1, 2, 3, 3, 3}},
		{"reflect", []int64{4, 4}, []float32{1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3}},
		{"wrap", []int64{4, 2}, []float32{3, 1, 2, 3, 1, 2, 3, 1, 2}},
	} {
		op := newOp(t, "Pad", attrs{"mode": test.mode}, 19, 3, 1)
		y := forwardNN(t, op, &State{}, x, nnInts(test.pads...), nnFloats([]int{}, 7))[0]
		if len(y.Data) != len(test.want) {
			t.Errorf("%s %v: got %v, want %v", test.mode, test.pads, y.Data, test.want)
			continue
		}
		for i, w := range test.want {
			if y.Data[i] != w {
				t.Errorf("%s %v: got %v, want %v", test.mode, test.pads, y.Data, test.want)
				break
			}
		}
	}
}

func TestAveragePoolDivisors(t *testing.T) {
	// 1×4 input of ones, kernel 3, stride 2, pads 1, ceil: the last window
	// covers input column 3, the end pad and one column past it.
	x := nnFloats([]int{1, 1, 1, 4}, 1, 1, 1, 1)
	for _, test := range []struct {
		include int
		want    []float32
	}{
		{0, []float32{1, 1, 1}},
		{1, []float32{2. / 3, 1, 0.5}},
	} {
		op := newOp(t, "AveragePool", attrs{"kernel_shape": []int64{1, 3}, "strides": []int64{1, 2}, "pads": []int64{0, 1, 0, 1}, "ceil_mode": 1, "count_include_pad": test.include}, 11, 1, 1)
		y := forwardNN(t, op, &State{}, x)[0]
		if len(y.Data) != len(test.want) {
			t.Fatalf("count_include_pad=%d: got %v, want %v", test.include, y.Data, test.want)
		}
		for i, w := range test.want {
			if math.Abs(float64(y.Data[i]-w)) > 1e-6 {
				t.Errorf("count_include_pad=%d: got %v, want %v", test.include, y.Data, test.want)
				break
			}
		}
	}
}

func TestNNUnsupported(t *testing.T) {
	for _, test := range []struct {
		op    string
		attrs attrs
		opset int64
	}{
		{"Resize", attrs{"coordinate_transformation_mode": "tf_crop_and_resize"}, 13},
		{"MaxPool", attrs{"kernel_shape": []int64{2, 2, 2}}, 12},
		{"AveragePool", attrs{"kernel_shape": []int64{2, 2, 2}}, 11},
		{"BatchNormalization", attrs{"spatial": 0}, 7},
	} {
		if _, err := New(makeNode(t, test.op, test.attrs, 1, 1), test.opset, ""); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s %v: got %v, want ErrUnsupported", test.op, test.attrs, err)
		}
	}
	// Settings only the input reveals fail at run time, still as ErrUnsupported.
	rng := rand.New(rand.NewPCG(1, 1))
	for _, test := range []struct {
		name string
		op   Op
		in   []*Tensor
	}{
		{"3-D ConvTranspose", newOp(t, "ConvTranspose", nil, 13, 2, 1), []*Tensor{randTensor(rng, 0, 1, 1, 1, 2, 2, 2), randTensor(rng, 0, 1, 1, 1, 2, 2, 2)}},
		{"linear resize of channels", newOp(t, "Resize", attrs{"mode": "linear"}, 13, 3, 1), []*Tensor{randTensor(rng, 0, 1, 1, 2, 2, 2), nil, nnFloats([]int{4}, 1, 2, 1, 1)}},
		{"antialiased downscale", newOp(t, "Resize", attrs{"mode": "linear", "antialias": 1}, 18, 3, 1), []*Tensor{randTensor(rng, 0, 1, 1, 1, 4, 4), nil, nnFloats([]int{4}, 1, 1, 0.5, 0.5)}},
	} {
		if _, err := test.op.Forward(&State{}, test.in); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: got %v, want ErrUnsupported", test.name, err)
		}
	}
}

// Backward with only input 0's gradient wanted gives the same dx as with
// every gradient wanted, and nil for the inputs not wanted.
func TestNNNeeds(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	r := func(shape ...int) *Tensor { return randTensor(rng, -1, 1, shape...) }
	pos := func(shape ...int) *Tensor { return randTensor(rng, 0.5, 1.5, shape...) }
	for _, test := range []struct {
		name     string
		op       Op
		in       []*Tensor
		training bool
	}{
		{"batchnorm inference", newOp(t, "BatchNormalization", nil, 15, 5, 1), []*Tensor{r(2, 3, 4), pos(3), r(3), r(3), pos(3)}, false},
		{"batchnorm training", newOp(t, "BatchNormalization", nil, 15, 5, 1), []*Tensor{r(2, 3, 4), pos(3), r(3), r(3), pos(3)}, true},
		{"convtranspose", newOp(t, "ConvTranspose", attrs{"strides": []int64{2, 2}}, 13, 3, 1), []*Tensor{r(1, 2, 3, 3), r(2, 2, 3, 3), r(2)}, false},
		{"gemm", newOp(t, "Gemm", attrs{"transA": 1}, 13, 3, 1), []*Tensor{r(3, 2), r(3, 4), r(4)}, false},
		{"matmul", newOp(t, "MatMul", nil, 13, 2, 1), []*Tensor{r(2, 3, 4), r(4, 5)}, false},
	} {
		var all, only []*Tensor
		for pass, need := range [][]bool{nil, {true, false, false, false, false}} {
			s := &State{Grad: true, Training: test.training}
			y := forwardNN(t, test.op, s, test.in...)[0]
			s.Need = need[:min(len(need), len(test.in))]
			g, err := test.op.Backward(s, []*Tensor{nnOnes(y)})
			if err != nil {
				t.Fatalf("%s: %v", test.name, err)
			}
			if pass == 0 {
				all = g
			} else {
				only = g
			}
		}
		for i := range test.in {
			switch {
			case i == 0:
				for j, v := range all[0].Data {
					if only[0].Data[j] != v {
						t.Errorf("%s: dx[%d] = %v with only dx wanted, %v with every gradient", test.name, j, only[0].Data[j], v)
						break
					}
				}
			case i < len(only) && only[i] != nil:
				t.Errorf("%s: gradient %d computed though not wanted", test.name, i)
			}
		}
	}
}

func nnOnes(shape *Tensor) *Tensor {
	t := NewFloat(append([]int(nil), shape.Shape...)...)
	for i := range t.Data {
		t.Data[i] = 1
	}
	return t
}
