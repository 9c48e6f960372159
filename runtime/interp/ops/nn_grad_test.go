package ops

import (
	"math/rand/v2"
	"testing"
)

// gradCase is an op under a finite-difference gradient check.
type gradCase struct {
	name     string
	op       string
	attrs    attrs
	opset    int64 // 13 when 0
	nIn      int   // 1 when 0
	in       func() []*Tensor
	skip     []int // inputs held constant
	training bool
}

// checkGradients runs gradCheck on every case.
func checkGradients(t *testing.T, cases []gradCase) {
	for _, test := range cases {
		opset, nIn := test.opset, test.nIn
		if opset == 0 {
			opset = 13
		}
		if nIn == 0 {
			nIn = 1
		}
		op := newOp(t, test.op, test.attrs, opset, nIn, 1)
		if test.training {
			op = trainingMode{op}
		}
		gradCheck(t, test.name, op, test.in(), test.skip...)
	}
}

// gradInputs returns the random tensor makers the cases use, on rng:
// values in [-1, 1), positive ones in [0.5, 1.5), and BatchNormalization's
// five inputs for an input shape.
func gradInputs(rng *rand.Rand) (r, pos func(shape ...int) *Tensor, bnIn func(shape ...int) func() []*Tensor) {
	r = func(shape ...int) *Tensor { return randTensor(rng, -1, 1, shape...) }
	pos = func(shape ...int) *Tensor { return randTensor(rng, 0.5, 1.5, shape...) }
	bnIn = func(shape ...int) func() []*Tensor {
		return func() []*Tensor {
			c := shape[1]
			return []*Tensor{r(shape...), pos(c), r(c), r(c), pos(c)}
		}
	}
	return r, pos, bnIn
}

// TestMaxPoolGradients checks the gradients of MaxPool and GlobalMaxPool, on distinct values so that the winner of every window is stable against
// central differences.
func TestMaxPoolGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	checkGradients(t, []gradCase{
		{name: "maxpool 2x2", op: "MaxPool", attrs: attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}},
			in: func() []*Tensor { return []*Tensor{distinct(rng, 2, 3, 6, 6)} }},
		{name: "maxpool 2x2 odd sizes", op: "MaxPool", attrs: attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}},
			in: func() []*Tensor { return []*Tensor{distinct(rng, 2, 3, 7, 37)} }},
		{name: "maxpool pads strides", op: "MaxPool", attrs: attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 1}, "pads": []int64{1, 0, 1, 2}},
			in: func() []*Tensor { return []*Tensor{distinct(rng, 2, 2, 7, 5)} }},
		{name: "maxpool ceil", op: "MaxPool", attrs: attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "ceil_mode": 1},
			in: func() []*Tensor { return []*Tensor{distinct(rng, 1, 2, 6, 6)} }},
		{name: "maxpool dilations same", op: "MaxPool", attrs: attrs{"kernel_shape": []int64{2, 3}, "dilations": []int64{2, 2}, "auto_pad": "SAME_LOWER"},
			in: func() []*Tensor { return []*Tensor{distinct(rng, 1, 3, 6, 7)} }},
		{name: "maxpool 1d", op: "MaxPool", attrs: attrs{"kernel_shape": []int64{3}, "strides": []int64{2}, "pads": []int64{1, 1}},
			in: func() []*Tensor { return []*Tensor{distinct(rng, 2, 3, 9)} }},
		{name: "global maxpool", op: "GlobalMaxPool",
			in: func() []*Tensor { return []*Tensor{distinct(rng, 2, 3, 4, 5)} }},
	})
}

// TestAveragePoolGradients checks the gradients of AveragePool and GlobalAveragePool against
// central differences.
func TestAveragePoolGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r, _, _ := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "averagepool pads", op: "AveragePool", attrs: attrs{"kernel_shape": []int64{3, 3}, "pads": []int64{1, 1, 1, 1}},
			in: func() []*Tensor { return []*Tensor{r(2, 2, 5, 5)} }},
		{name: "averagepool count_include_pad", op: "AveragePool", attrs: attrs{"kernel_shape": []int64{3, 2}, "pads": []int64{1, 0, 2, 1}, "strides": []int64{2, 1}, "count_include_pad": 1},
			in: func() []*Tensor { return []*Tensor{r(1, 3, 6, 5)} }},
		{name: "averagepool ceil", op: "AveragePool", attrs: attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "ceil_mode": 1},
			in: func() []*Tensor { return []*Tensor{r(2, 1, 6, 7)} }},
		{name: "averagepool ceil count_include_pad", op: "AveragePool", attrs: attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}, "ceil_mode": 1, "count_include_pad": 1},
			in: func() []*Tensor { return []*Tensor{r(1, 2, 6, 6)} }},
		{name: "averagepool 1d", op: "AveragePool", attrs: attrs{"kernel_shape": []int64{2}},
			in: func() []*Tensor { return []*Tensor{r(2, 2, 5)} }},
		{name: "global averagepool", op: "GlobalAveragePool",
			in: func() []*Tensor { return []*Tensor{r(2, 3, 4, 5)} }},
	})
}

// TestBatchNormGradients checks the gradients of BatchNormalization in inference and training mode against
// central differences.
func TestBatchNormGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	_, _, bnIn := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "batchnorm inference", op: "BatchNormalization", opset: 15, nIn: 5, in: bnIn(2, 3, 4, 5), skip: []int{3, 4}},
		{name: "batchnorm inference opset 9 rank 2", op: "BatchNormalization", opset: 9, nIn: 5, in: bnIn(4, 3), skip: []int{3, 4}},
		{name: "batchnorm training", op: "BatchNormalization", opset: 15, nIn: 5, in: bnIn(3, 2, 3, 4), skip: []int{3, 4}, training: true},
		{name: "batchnorm training_mode attribute", op: "BatchNormalization", attrs: attrs{"training_mode": 1, "momentum": 0.8}, opset: 15, nIn: 5, in: bnIn(2, 3, 2, 3), skip: []int{3, 4}},
		{name: "batchnorm training opset 7", op: "BatchNormalization", opset: 7, nIn: 5, in: bnIn(4, 2, 3), skip: []int{3, 4}, training: true},
	})
}

// TestLocalNormGradients checks the gradients of InstanceNormalization and LRN against
// central differences.
func TestLocalNormGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r, pos, _ := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "instancenorm", op: "InstanceNormalization", nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(2, 3, 4, 5), pos(3), r(3)} }},
		{name: "instancenorm 1d", op: "InstanceNormalization", nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(3, 2, 6), pos(2), r(2)} }},
		{name: "lrn", op: "LRN", attrs: attrs{"size": 3, "alpha": 0.5, "beta": 0.75, "bias": 1.5},
			in: func() []*Tensor { return []*Tensor{r(2, 5, 3, 2)} }},
		{name: "lrn even size", op: "LRN", attrs: attrs{"size": 4, "alpha": 0.3, "beta": 0.6},
			in: func() []*Tensor { return []*Tensor{r(1, 6, 2, 3)} }},
	})
}

// TestConvTransposeGradients checks the gradients of ConvTranspose against
// central differences.
func TestConvTransposeGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r, _, _ := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "convtranspose", op: "ConvTranspose", nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(2, 3, 4, 4), r(3, 2, 3, 3), r(2)} }},
		{name: "convtranspose groups strides output_padding", op: "ConvTranspose", nIn: 3,
			attrs: attrs{"group": 2, "strides": []int64{2, 3}, "output_padding": []int64{1, 2}, "pads": []int64{1, 0, 0, 1}},
			in:    func() []*Tensor { return []*Tensor{r(1, 4, 3, 3), r(4, 3, 3, 3), r(6)} }},
		{name: "convtranspose dilations output_shape", op: "ConvTranspose", nIn: 2,
			attrs: attrs{"strides": []int64{2, 2}, "dilations": []int64{2, 1}, "output_shape": []int64{9, 8}},
			in:    func() []*Tensor { return []*Tensor{r(2, 2, 3, 4), r(2, 3, 2, 3)} }},
		{name: "convtranspose same_upper", op: "ConvTranspose", nIn: 2,
			attrs: attrs{"strides": []int64{2, 2}, "auto_pad": "SAME_UPPER"},
			in:    func() []*Tensor { return []*Tensor{r(1, 2, 3, 3), r(2, 2, 3, 3)} }},
		{name: "convtranspose 1d", op: "ConvTranspose", nIn: 3, attrs: attrs{"strides": []int64{2}, "pads": []int64{1, 0}},
			in: func() []*Tensor { return []*Tensor{r(2, 3, 5), r(3, 2, 3), r(2)} }},
	})
}

// TestGemmGradients checks the gradients of Gemm against
// central differences.
func TestGemmGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r, _, _ := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "gemm", op: "Gemm", nIn: 3, in: func() []*Tensor { return []*Tensor{r(3, 4), r(4, 5), r(3, 5)} }},
		{name: "gemm transA", op: "Gemm", nIn: 3, attrs: attrs{"transA": 1, "alpha": 0.5},
			in: func() []*Tensor { return []*Tensor{r(4, 3), r(4, 5), r(5)} }},
		{name: "gemm transB", op: "Gemm", nIn: 3, attrs: attrs{"transB": 1, "beta": 2.0},
			in: func() []*Tensor { return []*Tensor{r(3, 4), r(5, 4), r(3, 1)} }},
		{name: "gemm transA transB scalar C", op: "Gemm", nIn: 3, attrs: attrs{"transA": 1, "transB": 1, "alpha": 1.5, "beta": 0.25},
			in: func() []*Tensor { return []*Tensor{r(4, 3), r(5, 4), r()} }},
		{name: "gemm row C", op: "Gemm", nIn: 3, attrs: attrs{"alpha": -1.0, "beta": -0.5},
			in: func() []*Tensor { return []*Tensor{r(2, 3), r(3, 4), r(1, 4)} }},
		{name: "gemm column C, square", op: "Gemm", nIn: 3, // C [M,1] is no bias row though M = N
			in: func() []*Tensor { return []*Tensor{r(3, 4), r(4, 3), r(3, 1)} }},
		{name: "gemm bias C", op: "Gemm", nIn: 3, attrs: attrs{"transB": 1},
			in: func() []*Tensor { return []*Tensor{r(3, 4), r(5, 4), r(5)} }},
		{name: "gemm no C", op: "Gemm", nIn: 2, attrs: attrs{"transB": 1},
			in: func() []*Tensor { return []*Tensor{r(2, 3), r(4, 3)} }},
	})
}

// TestMatMulGradients checks the gradients of MatMul against
// central differences.
func TestMatMulGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r, _, _ := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "matmul 2d", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(3, 4), r(4, 5)} }},
		{name: "matmul batched", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(2, 3, 4), r(2, 4, 5)} }},
		{name: "matmul shared right", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(2, 3, 3, 4), r(4, 2)} }},
		{name: "matmul broadcast", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(2, 1, 3, 4), r(3, 4, 2)} }},
		{name: "matmul shared left", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(3, 4), r(2, 4, 2)} }},
		{name: "matmul vector left", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(4), r(2, 4, 3)} }},
		{name: "matmul vector right", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(2, 3, 4), r(4)} }},
		{name: "matmul dot", op: "MatMul", nIn: 2, in: func() []*Tensor { return []*Tensor{r(5), r(5)} }},
	})
}

// TestResizeGradients checks the gradients of Resize and Upsample against
// central differences.
func TestResizeGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r, _, _ := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "resize linear half_pixel", op: "Resize", attrs: attrs{"mode": "linear"}, nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(2, 2, 3, 4), nil, nnFloats([]int{4}, 1, 1, 2, 1.5)} }, skip: []int{2}},
		{name: "resize linear align_corners down", op: "Resize", attrs: attrs{"mode": "linear", "coordinate_transformation_mode": "align_corners"}, nIn: 4,
			in: func() []*Tensor { return []*Tensor{r(1, 2, 6, 5), nil, nil, nnInts(1, 2, 4, 3)} }},
		{name: "resize linear pytorch_half_pixel", op: "Resize", attrs: attrs{"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"}, nIn: 4,
			in: func() []*Tensor { return []*Tensor{r(1, 1, 4, 5), nil, nil, nnInts(1, 1, 7, 1)} }},
		{name: "resize linear asymmetric", op: "Resize", attrs: attrs{"mode": "linear", "coordinate_transformation_mode": "asymmetric"}, nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(2, 3, 3), nil, nnFloats([]int{3}, 1, 2, 2)} }, skip: []int{2}},
		{name: "resize nearest", op: "Resize", nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(1, 2, 3, 3), nil, nnFloats([]int{4}, 1, 1, 2, 2.5)} }, skip: []int{2}},
		{name: "resize nearest floor align_corners", op: "Resize", attrs: attrs{"nearest_mode": "floor", "coordinate_transformation_mode": "align_corners"}, nIn: 4,
			in: func() []*Tensor { return []*Tensor{r(1, 1, 5, 4), nil, nil, nnInts(1, 1, 3, 7)} }},
		{name: "resize nearest ceil tf_half_pixel_for_nn", op: "Resize", attrs: attrs{"nearest_mode": "ceil", "coordinate_transformation_mode": "tf_half_pixel_for_nn"}, nIn: 4,
			in: func() []*Tensor { return []*Tensor{r(2, 1, 4, 4), nil, nil, nnInts(2, 1, 6, 3)} }},
		{name: "resize axes not_larger", op: "Resize", opset: 18, attrs: attrs{"axes": []int64{2, 3}, "keep_aspect_ratio_policy": "not_larger", "mode": "linear"}, nIn: 4,
			in: func() []*Tensor { return []*Tensor{r(1, 2, 3, 4), nil, nil, nnInts(6, 6)} }},
		{name: "resize cubic", op: "Resize", attrs: attrs{"mode": "cubic"}, nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(1, 2, 4, 5), nil, nnFloats([]int{4}, 1, 1, 1.5, 0.8)} }, skip: []int{2}},
		{name: "resize cubic exclude_outside align_corners", op: "Resize", attrs: attrs{"mode": "cubic", "exclude_outside": 1, "cubic_coeff_a": -0.5, "coordinate_transformation_mode": "align_corners"}, nIn: 4,
			in: func() []*Tensor { return []*Tensor{r(2, 1, 5, 4), nil, nil, nnInts(2, 1, 3, 7)} }},
		{name: "upsample nearest", op: "Upsample", opset: 9, nIn: 2,
			in: func() []*Tensor { return []*Tensor{r(1, 2, 2, 3), nnFloats([]int{4}, 1, 1, 2, 3)} }, skip: []int{1}},
		{name: "upsample linear opset 7", op: "Upsample", opset: 7, nIn: 1, attrs: attrs{"mode": "linear", "scales": []float32{1, 1, 2, 2}},
			in: func() []*Tensor { return []*Tensor{r(1, 2, 3, 3)} }},
	})
}

// TestPadGradients checks the gradients of Pad against
// central differences.
func TestPadGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r, _, _ := gradInputs(rng)
	checkGradients(t, []gradCase{
		{name: "pad constant", op: "Pad", nIn: 3,
			in: func() []*Tensor { return []*Tensor{r(2, 3, 4), nnInts(0, 1, 2, 1, 0, 3), nnFloats([]int{}, 0.5)} }},
		{name: "pad constant crop", op: "Pad", nIn: 2,
			in: func() []*Tensor { return []*Tensor{r(3, 5), nnInts(-1, 2, 1, -2)} }},
		{name: "pad reflect", op: "Pad", attrs: attrs{"mode": "reflect"}, nIn: 2,
			in: func() []*Tensor { return []*Tensor{r(1, 2, 4, 3), nnInts(0, 0, 2, 5, 0, 0, 3, 1)} }},
		{name: "pad edge", op: "Pad", attrs: attrs{"mode": "edge"}, nIn: 2,
			in: func() []*Tensor { return []*Tensor{r(2, 3, 3), nnInts(1, 2, 0, 0, 3, 1)} }},
		{name: "pad wrap axes", op: "Pad", opset: 19, attrs: attrs{"mode": "wrap"}, nIn: 4,
			in: func() []*Tensor { return []*Tensor{r(2, 3, 3), nnInts(2, 4, 1, 0), nil, nnInts(-1, 1)} }},
		{name: "pad opset 2", op: "Pad", opset: 2, attrs: attrs{"mode": "reflect", "pads": []int64{0, 1, 0, 2}},
			in: func() []*Tensor { return []*Tensor{r(2, 4)} }},
	})
}
