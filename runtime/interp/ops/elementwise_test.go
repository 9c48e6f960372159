package ops

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"google.golang.org/protobuf/proto"
)

// ewFloats is a float tensor of the given shape and values.
func ewFloats(shape []int, v ...float32) *Tensor { return &Tensor{Shape: shape, Data: v} }

// ewInts is an integer tensor of the given shape and values.
func ewInts(shape []int, v ...int64) *Tensor { return NewInts(shape, v) }

// ewSpaced fills a tensor with values at least 0.1 apart from those of any
// other tensor built with a different slot (values ≡ 0.1·slot mod 0.3), so
// Max, Min and ReduceMax have no near-ties for finite differences to cross.
func ewSpaced(rng *rand.Rand, slot int, shape ...int) *Tensor {
	x := NewFloat(shape...)
	for i := range x.Data {
		x.Data[i] = 0.3*float32(rng.IntN(13)-6) + 0.1*float32(slot)
	}
	return x
}

// ewDistinct fills a tensor with a shuffled grid of values 0.1 apart.
func ewDistinct(rng *rand.Rand, shape ...int) *Tensor {
	x := NewFloat(shape...)
	for i, p := range rng.Perm(len(x.Data)) {
		x.Data[i] = 0.1*float32(p) - 0.05*float32(len(x.Data))
	}
	return x
}

// TestElementwiseGradientsA and B check the gradients of the elementwise
// operators, reductions and softmaxes against central differences; the
// table is cut in two to keep each test short.
func TestElementwiseGradientsA(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r := func(lo, hi float32, shape ...int) *Tensor { return randTensor(rng, lo, hi, shape...) }
	for _, test := range []struct {
		name  string
		op    string
		attrs attrs
		opset int64
		in    func() []*Tensor
		skip  []int // inputs not to differentiate
	}{
		{"leakyrelu default", "LeakyRelu", nil, 16, func() []*Tensor { return []*Tensor{awayFrom(r(-1, 1, 2, 3, 4), 0.05, 0)} }, nil},
		{"leakyrelu alpha", "LeakyRelu", attrs{"alpha": 0.3}, 6, func() []*Tensor { return []*Tensor{awayFrom(r(-2, 2, 7), 0.05, 0)} }, nil},
		{"prelu per channel", "PRelu", nil, 16, func() []*Tensor {
			return []*Tensor{awayFrom(r(-1, 1, 2, 3, 4, 4), 0.05, 0), r(0, 0.5, 3, 1, 1)}
		}, nil},
		{"prelu shared slope", "PRelu", nil, 9, func() []*Tensor { return []*Tensor{awayFrom(r(-1, 1, 4, 5), 0.05, 0), r(0, 0.5, 1)} }, nil},
		{"prelu full slope", "PRelu", nil, 9, func() []*Tensor { return []*Tensor{awayFrom(r(-1, 1, 3, 2), 0.05, 0), r(-0.5, 0.5, 3, 2)} }, nil},
		{"sigmoid", "Sigmoid", nil, 13, func() []*Tensor { return []*Tensor{r(-4, 4, 2, 3)} }, nil},
		{"sigmoid 3d", "Sigmoid", nil, 6, func() []*Tensor { return []*Tensor{r(-8, 8, 3, 4, 5)} }, nil},
		{"tanh", "Tanh", nil, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3)} }, nil},
		{"tanh 3d", "Tanh", nil, 6, func() []*Tensor { return []*Tensor{r(-3, 3, 4, 1, 5)} }, nil},
		{"cos", "Cos", nil, 7, func() []*Tensor { return []*Tensor{r(-4, 4, 2, 3, 5)} }, nil},
		{"clip attributes", "Clip", attrs{"min": -0.5, "max": 0.5}, 6, func() []*Tensor {
			return []*Tensor{awayFrom(r(-1, 1, 3, 4), 0.05, -0.5, 0.5)}
		}, nil},
		{"clip inputs", "Clip", nil, 13, func() []*Tensor {
			return []*Tensor{awayFrom(r(-1, 1, 2, 3, 4), 0.05, -0.4, 0.3), ewFloats(nil, -0.4), ewFloats(nil, 0.3)}
		}, nil},
		{"clip max only", "Clip", nil, 11, func() []*Tensor {
			return []*Tensor{awayFrom(r(-1, 1, 5, 4), 0.05, 0.2), nil, ewFloats([]int{1}, 0.2)}
		}, nil},
		{"clip min only", "Clip", nil, 12, func() []*Tensor { return []*Tensor{awayFrom(r(-1, 1, 6), 0.05, 0), ewFloats(nil, 0)} }, nil},
		{"hardsigmoid default", "HardSigmoid", nil, 6, func() []*Tensor {
			return []*Tensor{awayFrom(r(-4, 4, 3, 5), 0.05, -2.5, 2.5)}
		}, nil},
		{"hardsigmoid attrs", "HardSigmoid", attrs{"alpha": 0.5, "beta": 0.6}, 6, func() []*Tensor {
			return []*Tensor{awayFrom(r(-2, 2, 2, 3, 2), 0.05, -1.2, 0.8)}
		}, nil},
		{"hardswish", "HardSwish", nil, 14, func() []*Tensor { return []*Tensor{awayFrom(r(-5, 5, 4, 6), 0.05, -3, 3)} }, nil},
		{"hardswish 1d", "HardSwish", nil, 14, func() []*Tensor { return []*Tensor{awayFrom(r(-4, 4, 9), 0.05, -3, 3)} }, nil},
		{"elu default", "Elu", nil, 6, func() []*Tensor { return []*Tensor{awayFrom(r(-3, 3, 3, 4), 0.05, 0)} }, nil},
		{"elu alpha", "Elu", attrs{"alpha": 0.5}, 6, func() []*Tensor { return []*Tensor{awayFrom(r(-3, 3, 2, 2, 3), 0.05, 0)} }, nil},
		{"selu default", "Selu", nil, 6, func() []*Tensor { return []*Tensor{awayFrom(r(-3, 3, 3, 4), 0.05, 0)} }, nil},
		{"selu attrs", "Selu", attrs{"alpha": 2.0, "gamma": 3.0}, 6, func() []*Tensor { return []*Tensor{awayFrom(r(-2, 2, 8), 0.05, 0)} }, nil},
		{"softplus", "Softplus", nil, 1, func() []*Tensor { return []*Tensor{r(-5, 5, 3, 4)} }, nil},
		{"softplus large", "Softplus", nil, 1, func() []*Tensor { return []*Tensor{r(-20, 20, 2, 5)} }, nil},
		{"erf", "Erf", nil, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 3, 4)} }, nil},
		{"erf 1d", "Erf", nil, 9, func() []*Tensor { return []*Tensor{r(-1, 1, 7)} }, nil},
		{"exp", "Exp", nil, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 3, 4)} }, nil},
		{"exp 1d", "Exp", nil, 6, func() []*Tensor { return []*Tensor{r(-1, 1, 5)} }, nil},
		{"log", "Log", nil, 13, func() []*Tensor { return []*Tensor{r(0.5, 3, 3, 4)} }, nil},
		{"log 1d", "Log", nil, 6, func() []*Tensor { return []*Tensor{r(1, 10, 5)} }, nil},
		{"sqrt", "Sqrt", nil, 13, func() []*Tensor { return []*Tensor{r(0.5, 3, 3, 4)} }, nil},
		{"sqrt 1d", "Sqrt", nil, 6, func() []*Tensor { return []*Tensor{r(1, 9, 6)} }, nil},
		{"neg", "Neg", nil, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3)} }, nil},
		{"neg 1d", "Neg", nil, 6, func() []*Tensor { return []*Tensor{r(-1, 1, 4)} }, nil},
		{"abs", "Abs", nil, 13, func() []*Tensor { return []*Tensor{awayFrom(r(-1, 1, 3, 4), 0.05, 0)} }, nil},
		{"abs 1d", "Abs", nil, 6, func() []*Tensor { return []*Tensor{awayFrom(r(-2, 2, 9), 0.05, 0)} }, nil},
		{"reciprocal", "Reciprocal", nil, 13, func() []*Tensor { return []*Tensor{r(0.5, 2, 3, 4)} }, nil},
		{"reciprocal negative", "Reciprocal", nil, 6, func() []*Tensor { return []*Tensor{r(-2, -0.5, 5)} }, nil},
		{"pow", "Pow", nil, 15, func() []*Tensor { return []*Tensor{r(0.5, 2, 2, 3), r(-2, 2, 2, 3)} }, nil},
		{"pow broadcast exponent", "Pow", nil, 13, func() []*Tensor { return []*Tensor{r(0.5, 2, 2, 3, 4), r(-1, 2, 4)} }, nil},
		{"pow broadcast base", "Pow", nil, 13, func() []*Tensor { return []*Tensor{r(0.5, 2, 3, 1), r(-1, 2, 2, 3, 4)} }, nil},
		{"pow square", "Pow", nil, 7, func() []*Tensor { return []*Tensor{r(0.2, 2, 3, 4), ewFloats(nil, 2)} }, nil},
		{"pow root", "Pow", nil, 7, func() []*Tensor { return []*Tensor{r(0.5, 2, 3, 4), ewFloats([]int{1}, 0.5)} }, nil},
		{"pow cube", "Pow", nil, 7, func() []*Tensor { return []*Tensor{r(0.5, 2, 6), ewFloats(nil, 3)} }, nil},
		{"pow integer exponent", "Pow", nil, 15, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3), ewInts(nil, 3)} }, nil},
		{"sub", "Sub", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3), r(-1, 1, 2, 3)} }, nil},
		{"sub broadcast", "Sub", nil, 7, func() []*Tensor { return []*Tensor{r(-1, 1, 4, 1), r(-1, 1, 2, 1, 3)} }, nil},
	} {
		in := test.in()
		gradCheck(t, test.name, newOp(t, test.op, test.attrs, test.opset, len(in), 1), in, test.skip...)
	}
}

// TestElementwiseGradientsB is the second half of TestElementwiseGradientsA.
func TestElementwiseGradientsB(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	r := func(lo, hi float32, shape ...int) *Tensor { return randTensor(rng, lo, hi, shape...) }
	for _, test := range []struct {
		name  string
		op    string
		attrs attrs
		opset int64
		in    func() []*Tensor
		skip  []int // inputs not to differentiate
	}{
		{"mul", "Mul", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3), r(-1, 1, 2, 3)} }, nil},
		{"mul broadcast", "Mul", nil, 7, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4), r(-1, 1, 3, 1)} }, nil},
		{"mul squeeze-excitation", "Mul", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4, 5), r(-1, 1, 2, 3, 1, 1)} }, nil},
		{"mul squeeze-excitation scale first", "Mul", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 1, 1), r(-1, 1, 2, 3, 4, 5)} }, nil},
		{"div rows", "Div", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4), r(0.5, 2, 2, 3, 1)} }, nil},
		{"div rows numerator", "Div", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 1), r(0.5, 2, 2, 3, 4)} }, nil},
		{"sub rows fewer axes", "Sub", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 1, 1), r(-1, 1, 3, 2, 2)} }, nil},
		{"add bias columns", "Add", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4), r(-1, 1, 4)} }, nil},
		{"mul scale columns first", "Mul", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 1, 3, 4), r(-1, 1, 2, 3, 4)} }, nil},
		{"div columns", "Div", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4), r(0.5, 2, 1, 4)} }, nil},
		{"mul layer scale", "Mul", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 3, 1, 1), r(-1, 1, 2, 3, 2, 2)} }, nil},
		{"add middle block", "Add", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4, 2), r(-1, 1, 1, 3, 4, 1)} }, nil},
		{"sub columns numerator", "Sub", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 3, 1), r(-1, 1, 2, 3, 1)} }, nil},
		{"mul scalar", "Mul", nil, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3), ewFloats(nil, 0.7)} }, nil},
		{"div", "Div", nil, 14, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3), r(0.5, 2, 2, 3)} }, nil},
		{"div broadcast", "Div", nil, 7, func() []*Tensor { return []*Tensor{r(-1, 1, 3, 1), r(-2, -0.5, 2, 1, 4)} }, nil},
		{"sum three broadcast", "Sum", nil, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4), r(-1, 1, 3, 1), r(-1, 1, 4)} }, nil},
		{"sum one", "Sum", nil, 6, func() []*Tensor { return []*Tensor{r(-1, 1, 3, 2)} }, nil},
		{"mean two", "Mean", nil, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3), r(-1, 1, 2, 3)} }, nil},
		{"mean three broadcast", "Mean", nil, 8, func() []*Tensor { return []*Tensor{r(-1, 1, 4), r(-1, 1, 3, 4), r(-1, 1, 2, 1, 1)} }, nil},
		{"max three broadcast", "Max", nil, 13, func() []*Tensor {
			return []*Tensor{ewSpaced(rng, 0, 2, 3, 4), ewSpaced(rng, 1, 3, 1), ewSpaced(rng, 2, 4)}
		}, nil},
		{"max two", "Max", nil, 8, func() []*Tensor { return []*Tensor{ewSpaced(rng, 0, 5, 2), ewSpaced(rng, 1, 5, 2)} }, nil},
		{"min three broadcast", "Min", nil, 13, func() []*Tensor {
			return []*Tensor{ewSpaced(rng, 2, 3, 1), ewSpaced(rng, 0, 2, 3, 4), ewSpaced(rng, 1, 1)}
		}, nil},
		{"min one", "Min", nil, 6, func() []*Tensor { return []*Tensor{r(-1, 1, 4)} }, nil},
		// Softmax and LogSoftmax: opset 11 flattens at axis, opset 13 takes one axis.
		{"softmax opset 11 default axis", "Softmax", nil, 11, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"softmax opset 11 axis 2", "Softmax", attrs{"axis": 2}, 11, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"softmax opset 11 axis 0", "Softmax", attrs{"axis": 0}, 1, func() []*Tensor { return []*Tensor{r(-2, 2, 3, 4)} }, nil},
		{"softmax opset 13 default axis", "Softmax", nil, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"softmax opset 13 axis 1", "Softmax", attrs{"axis": 1}, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"softmax opset 13 axis -3", "Softmax", attrs{"axis": -3}, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"logsoftmax opset 11 default axis", "LogSoftmax", nil, 11, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"logsoftmax opset 11 axis -1", "LogSoftmax", attrs{"axis": -1}, 11, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"logsoftmax opset 13 default axis", "LogSoftmax", nil, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		{"logsoftmax opset 13 axis 1", "LogSoftmax", attrs{"axis": 1}, 13, func() []*Tensor { return []*Tensor{r(-2, 2, 2, 3, 4)} }, nil},
		// Reductions: contiguous and scattered axes, every axis, both keepdims.
		{"reducesum axis 1 keepdims", "ReduceSum", attrs{"axes": []int64{1}}, 11, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4)} }, nil},
		{"reducesum axes 0 2", "ReduceSum", attrs{"axes": []int64{0, 2}, "keepdims": 0}, 11, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4)} }, nil},
		{"reducesum all", "ReduceSum", attrs{"keepdims": 0}, 11, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3)} }, nil},
		{"reducesum axes input", "ReduceSum", nil, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4), ewInts([]int{2}, 1, 2)} }, nil},
		{"reducesum noop", "ReduceSum", attrs{"noop_with_empty_axes": 1}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3)} }, nil},
		{"reducemean axes -1", "ReduceMean", attrs{"axes": []int64{-1}}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4)} }, nil},
		{"reducemean axes 1 3", "ReduceMean", attrs{"axes": []int64{1, 3}, "keepdims": 0}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 2, 4)} }, nil},
		{"reducemean spatial", "ReduceMean", attrs{"axes": []int64{2, 3}}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4, 5)} }, nil},
		{"reducemean axes input", "ReduceMean", attrs{"keepdims": 0}, 18, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4), ewInts([]int{1}, 0)} }, nil},
		{"reducemax axis 1", "ReduceMax", attrs{"axes": []int64{1}}, 13, func() []*Tensor { return []*Tensor{ewDistinct(rng, 2, 3, 4)} }, nil},
		{"reducemax axes 0 2", "ReduceMax", attrs{"axes": []int64{0, 2}, "keepdims": 0}, 13, func() []*Tensor { return []*Tensor{ewDistinct(rng, 2, 3, 4)} }, nil},
		{"reducemax all", "ReduceMax", attrs{"keepdims": 0}, 18, func() []*Tensor { return []*Tensor{ewDistinct(rng, 3, 4)} }, nil},
		{"reducemin axis -1", "ReduceMin", attrs{"axes": []int64{-1}, "keepdims": 0}, 13, func() []*Tensor { return []*Tensor{ewDistinct(rng, 2, 3, 4)} }, nil},
		{"reducemin axes input", "ReduceMin", nil, 18, func() []*Tensor { return []*Tensor{ewDistinct(rng, 2, 3, 4), ewInts([]int{2}, 0, -1)} }, nil},
		{"reducel2 axis 1", "ReduceL2", attrs{"axes": []int64{1}}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4)} }, nil},
		{"reducel2 all", "ReduceL2", attrs{"keepdims": 0}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 3, 4)} }, nil},
		{"reducel2 axes 0 2", "ReduceL2", attrs{"axes": []int64{0, 2}}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3, 4)} }, nil},
		{"identity", "Identity", nil, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3)} }, nil},
		{"dropout inference", "Dropout", attrs{"ratio": 0.4}, 7, func() []*Tensor { return []*Tensor{r(-1, 1, 3, 4)} }, nil},
		{"dropout training", "Dropout", nil, 13, func() []*Tensor {
			return []*Tensor{r(-1, 1, 3, 4, 5), ewFloats(nil, 0.3), ewInts(nil, 1)}
		}, []int{1}},
		{"dropout training odd length", "Dropout", nil, 12, func() []*Tensor {
			return []*Tensor{r(-1, 1, 7), ewFloats(nil, 0.5), ewInts(nil, 1)}
		}, []int{1}},
		{"cast to float", "Cast", attrs{"to": int(onnx.TensorProto_FLOAT)}, 13, func() []*Tensor { return []*Tensor{r(-1, 1, 2, 3)} }, nil},
		{"cast to double", "Cast", attrs{"to": int(onnx.TensorProto_DOUBLE)}, 6, func() []*Tensor { return []*Tensor{r(-1, 1, 4)} }, nil},
	} {
		in := test.in()
		gradCheck(t, test.name, newOp(t, test.op, test.attrs, test.opset, len(in), 1), in, test.skip...)
	}
}

// TestElementwiseValuesA and B check outputs against hand-computed values;
// the table is cut in two to keep each test short.
func TestElementwiseValuesA(t *testing.T) {
	f := func(v ...float32) *Tensor { return ewFloats([]int{len(v)}, v...) }
	n := func(v ...int64) *Tensor { return ewInts([]int{len(v)}, v...) }
	checkValues(t, []valueCase{
		{"clip max only", "Clip", nil, 13, 1, []*Tensor{f(-5, 0, 5), nil, ewFloats(nil, 1)}, []*Tensor{f(-5, 0, 1)}},
		{"clip min only", "Clip", nil, 11, 1, []*Tensor{f(-5, 0, 5), ewFloats(nil, -1)}, []*Tensor{f(-1, 0, 5)}},
		{"clip no bounds", "Clip", nil, 13, 1, []*Tensor{f(-5, 0, 5)}, []*Tensor{f(-5, 0, 5)}},
		{"clip attributes", "Clip", attrs{"min": -1.0, "max": 1.0}, 6, 1, []*Tensor{f(-5, 0.5, 5)}, []*Tensor{f(-1, 0.5, 1)}},
		{"clip attribute defaults", "Clip", attrs{"max": 2.0}, 6, 1, []*Tensor{f(-1e30, 3)}, []*Tensor{f(-1e30, 2)}},
		{"clip integers", "Clip", nil, 12, 1, []*Tensor{n(-5, 0, 5), ewInts(nil, -2), ewInts(nil, 3)}, []*Tensor{n(-2, 0, 3)}},
		{"clip min above max", "Clip", nil, 13, 1, []*Tensor{f(-5, 0, 5), ewFloats(nil, 2), ewFloats(nil, 1)}, []*Tensor{f(1, 1, 1)}},
		{"leakyrelu", "LeakyRelu", nil, 16, 1, []*Tensor{f(-100, 0, 3)}, []*Tensor{f(-1, 0, 3)}},
		{"prelu channel", "PRelu", nil, 16, 1, []*Tensor{ewFloats([]int{1, 2, 2}, -1, 1, -2, 2), ewFloats([]int{2, 1}, 0.5, 0.25)}, []*Tensor{ewFloats([]int{1, 2, 2}, -0.5, 1, -0.5, 2)}},
		{"hardsigmoid", "HardSigmoid", nil, 6, 1, []*Tensor{f(-3, 0, 1, 3)}, []*Tensor{f(0, 0.5, 0.7, 1)}},
		{"hardswish", "HardSwish", nil, 14, 1, []*Tensor{f(-4, -1.5, 0, 1.5, 4)}, []*Tensor{f(0, -0.375, 0, 1.125, 4)}},
		{"sigmoid extremes", "Sigmoid", nil, 13, 1, []*Tensor{f(-100, 0, 100)}, []*Tensor{f(0, 0.5, 1)}},
		{"softplus extremes", "Softplus", nil, 1, 1, []*Tensor{f(-100, 0, 100)}, []*Tensor{f(0, float32(math.Ln2), 100)}},
		{"selu", "Selu", nil, 6, 1, []*Tensor{f(-1, 0, 1)}, []*Tensor{f(-1.1113307, 0, 1.050701)}},
		{"elu", "Elu", attrs{"alpha": 2.0}, 6, 1, []*Tensor{f(-1, 0, 1)}, []*Tensor{f(2*float32(math.Expm1(-1)), 0, 1)}},
		{"abs neg integers", "Abs", nil, 13, 1, []*Tensor{n(-3, 0, 4)}, []*Tensor{n(3, 0, 4)}},
		{"neg integers", "Neg", nil, 13, 1, []*Tensor{n(-3, 0, 4)}, []*Tensor{n(3, 0, -4)}},
		{"div integers truncate", "Div", nil, 14, 1, []*Tensor{n(-7, 7, 7, 5), n(2, 2, -2, 0)}, []*Tensor{n(-3, 3, -3, 0)}},
		{"sub integers broadcast", "Sub", nil, 14, 1, []*Tensor{n(5, 6), ewInts(nil, 1)}, []*Tensor{n(4, 5)}},
		{"mul integers", "Mul", nil, 14, 1, []*Tensor{n(5, 6), n(-1, 2)}, []*Tensor{n(-5, 12)}},
		{"pow integers", "Pow", nil, 15, 1, []*Tensor{n(2, -2, 2, -1, 3), n(10, 3, -1, -3, 0)}, []*Tensor{n(1024, -8, 0, -1, 1)}},
		{"pow integer base float exponent", "Pow", nil, 15, 1, []*Tensor{n(2, 9), f(1.5, 0.5)}, []*Tensor{n(2, 3)}},
		{"pow float base integer exponent", "Pow", nil, 15, 1, []*Tensor{f(2, -3), n(-1, 3)}, []*Tensor{f(0.5, -27)}},
		{"pow broadcast", "Pow", nil, 15, 1, []*Tensor{ewFloats([]int{2, 1}, 2, 3), f(1, 2)}, []*Tensor{ewFloats([]int{2, 2}, 2, 4, 3, 9)}},
		{"sum broadcast", "Sum", nil, 13, 1, []*Tensor{ewFloats([]int{2, 1}, 1, 2), f(10, 20), ewFloats(nil, 100)}, []*Tensor{ewFloats([]int{2, 2}, 111, 121, 112, 122)}},
		{"mean", "Mean", nil, 13, 1, []*Tensor{f(1, 2), f(3, 6)}, []*Tensor{f(2, 4)}},
		{"max integers", "Max", nil, 13, 1, []*Tensor{n(1, 5, 3), n(4, 2, 3), ewInts(nil, 2)}, []*Tensor{n(4, 5, 3)}},
		{"min floats broadcast", "Min", nil, 13, 1, []*Tensor{f(1, 5, 3), ewFloats(nil, 2)}, []*Tensor{f(1, 2, 2)}},
		// Softmax over [1,2,2] at axis 1: opset 11 normalises all four
		// values together, opset 13 each column of two.
		{"softmax opset 11 flattens", "Softmax", attrs{"axis": 1}, 11, 1, []*Tensor{ewFloats([]int{1, 2, 2}, 0, 0, 0, 0)}, []*Tensor{ewFloats([]int{1, 2, 2}, 0.25, 0.25, 0.25, 0.25)}},
		{"softmax opset 13 one axis", "Softmax", attrs{"axis": 1}, 13, 1, []*Tensor{ewFloats([]int{1, 2, 2}, 0, 0, 0, 0)}, []*Tensor{ewFloats([]int{1, 2, 2}, 0.5, 0.5, 0.5, 0.5)}},
		{"softmax opset 11 default axis 1", "Softmax", nil, 11, 1, []*Tensor{ewFloats([]int{1, 2, 2}, 0, 0, 0, 0)}, []*Tensor{ewFloats([]int{1, 2, 2}, 0.25, 0.25, 0.25, 0.25)}},
		{"softmax opset 13 default axis -1", "Softmax", nil, 13, 1, []*Tensor{ewFloats([]int{2, 2, 1}, 0, 0, 0, 0)}, []*Tensor{ewFloats([]int{2, 2, 1}, 1, 1, 1, 1)}},
		{"logsoftmax large", "LogSoftmax", nil, 13, 1, []*Tensor{f(1000, 1000)}, []*Tensor{f(-float32(math.Ln2), -float32(math.Ln2))}},
		{"reducesum keepdims 0", "ReduceSum", attrs{"axes": []int64{1}, "keepdims": 0}, 11, 1, []*Tensor{ewFloats([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, []*Tensor{f(6, 15)}},
	})
}

// TestElementwiseValuesB is the second half of TestElementwiseValuesA.
func TestElementwiseValuesB(t *testing.T) {
	f := func(v ...float32) *Tensor { return ewFloats([]int{len(v)}, v...) }
	n := func(v ...int64) *Tensor { return ewInts([]int{len(v)}, v...) }
	checkValues(t, []valueCase{
		{"reducesum keepdims 1", "ReduceSum", attrs{"axes": []int64{0}}, 11, 1, []*Tensor{ewFloats([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, []*Tensor{ewFloats([]int{1, 3}, 5, 7, 9)}},
		{"reducesum empty axes input", "ReduceSum", nil, 13, 1, []*Tensor{ewFloats([]int{2, 2}, 1, 2, 3, 4), ewInts([]int{0})}, []*Tensor{ewFloats([]int{1, 1}, 10)}},
		{"reducesum noop", "ReduceSum", attrs{"noop_with_empty_axes": 1}, 13, 1, []*Tensor{ewFloats([]int{2, 2}, 1, 2, 3, 4), ewInts([]int{0})}, []*Tensor{ewFloats([]int{2, 2}, 1, 2, 3, 4)}},
		{"reducemean scattered axes", "ReduceMean", attrs{"axes": []int64{0, 2}, "keepdims": 0}, 13, 1, []*Tensor{ewFloats([]int{2, 1, 2}, 1, 2, 3, 6)}, []*Tensor{f(3)}},
		{"reducemax", "ReduceMax", attrs{"axes": []int64{-1}, "keepdims": 0}, 13, 1, []*Tensor{ewFloats([]int{2, 2}, 1, -2, -3, -4)}, []*Tensor{f(1, -3)}},
		{"reducemin axes input", "ReduceMin", nil, 18, 1, []*Tensor{ewFloats([]int{2, 2}, 1, -2, -3, 4), n(0)}, []*Tensor{ewFloats([]int{1, 2}, -3, -2)}},
		{"reducel2", "ReduceL2", attrs{"keepdims": 0}, 13, 1, []*Tensor{f(3, 4)}, []*Tensor{ewFloats([]int{}, 5)}},
		{"identity integers", "Identity", nil, 16, 1, []*Tensor{n(1, 2)}, []*Tensor{n(1, 2)}},
		{"dropout inference", "Dropout", attrs{"ratio": 0.9}, 7, 1, []*Tensor{f(1, 2, 3)}, []*Tensor{f(1, 2, 3)}},
		{"dropout inference float mask", "Dropout", nil, 7, 2, []*Tensor{f(1, 2)}, []*Tensor{f(1, 2), f(1, 1)}},
		{"dropout inference bool mask", "Dropout", nil, 13, 2, []*Tensor{f(1, 2), ewFloats(nil, 0.5)}, []*Tensor{f(1, 2), n(1, 1)}},
		{"dropout training zero ratio", "Dropout", nil, 13, 2, []*Tensor{f(1, 2), ewFloats(nil, 0), ewInts(nil, 1)}, []*Tensor{f(1, 2), n(1, 1)}},
		{"dropout is_test", "Dropout", attrs{"is_test": 1}, 6, 1, []*Tensor{f(1, 2)}, []*Tensor{f(1, 2)}},
		{"cast float to int64 truncates", "Cast", attrs{"to": int(onnx.TensorProto_INT64)}, 13, 1, []*Tensor{f(-1.7, 1.7, 2.5, -0.5, float32(math.NaN()))}, []*Tensor{n(-1, 1, 2, 0, 0)}},
		{"cast float to uint8 wraps", "Cast", attrs{"to": int(onnx.TensorProto_UINT8)}, 13, 1, []*Tensor{f(-1, 256, 3.9)}, []*Tensor{n(255, 0, 3)}},
		{"cast int to int8 wraps", "Cast", attrs{"to": int(onnx.TensorProto_INT8)}, 13, 1, []*Tensor{n(127, 128, -129)}, []*Tensor{n(127, -128, 127)}},
		{"cast float to bool", "Cast", attrs{"to": int(onnx.TensorProto_BOOL)}, 13, 1, []*Tensor{f(0, 0.5, -2)}, []*Tensor{n(0, 1, 1)}},
		{"cast int to float", "Cast", attrs{"to": int(onnx.TensorProto_FLOAT)}, 13, 1, []*Tensor{n(-3, 7)}, []*Tensor{f(-3, 7)}},
		{"cast to float16 rounds", "Cast", attrs{"to": int(onnx.TensorProto_FLOAT16)}, 13, 1, []*Tensor{f(0.1, 70000)}, []*Tensor{f(0.0999755859375, float32(math.Inf(1)))}},
		{"cast to bfloat16 rounds to even", "Cast", attrs{"to": int(onnx.TensorProto_BFLOAT16)}, 13, 1, []*Tensor{f(1+1.0/256, 1+3.0/256, 0.1)}, []*Tensor{f(1, 1+4.0/256, 0.10009765625)}},
		{"cast by name", "Cast", attrs{"to": "INT32"}, 1, 1, []*Tensor{f(2.5)}, []*Tensor{n(2)}},
		{"constant value_ints", "Constant", attrs{"value_ints": []int64{1, 2}}, 13, 1, nil, []*Tensor{n(1, 2)}},
		{"constant value_float", "Constant", attrs{"value_float": 1.5}, 13, 1, nil, []*Tensor{ewFloats([]int{}, 1.5)}},
		{"constant value tensor", "Constant", attrs{"value": &onnx.TensorProto{Dims: []int64{2, 1}, DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: []int64{4, 5}}}, 13, 1, nil, []*Tensor{ewInts([]int{2, 1}, 4, 5)}},
		{"constantofshape default", "ConstantOfShape", nil, 9, 1, []*Tensor{n(2, 3)}, []*Tensor{ewFloats([]int{2, 3}, 0, 0, 0, 0, 0, 0)}},
		{"constantofshape int value", "ConstantOfShape", attrs{"value": &onnx.TensorProto{Dims: []int64{1}, DataType: proto.Int32(int32(onnx.TensorProto_INT64)), Int64Data: []int64{7}}}, 9, 1, []*Tensor{n(3)}, []*Tensor{n(7, 7, 7)}},
		{"constantofshape scalar", "ConstantOfShape", attrs{"value": &onnx.TensorProto{Dims: []int64{1}, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{2}}}, 9, 1, []*Tensor{ewInts([]int{0})}, []*Tensor{ewFloats([]int{}, 2)}},
		{"greater broadcast", "Greater", nil, 13, 1, []*Tensor{f(1, 2, 3), ewFloats(nil, 2)}, []*Tensor{n(0, 0, 1)}},
		{"less integers", "Less", nil, 13, 1, []*Tensor{n(1, 2, 3), ewInts(nil, 2)}, []*Tensor{n(1, 0, 0)}},
		{"greater or equal", "GreaterOrEqual", nil, 16, 1, []*Tensor{f(1, 2, 3), ewFloats(nil, 2)}, []*Tensor{n(0, 1, 1)}},
		{"less or equal", "LessOrEqual", nil, 16, 1, []*Tensor{f(1, 2, 3), ewFloats(nil, 2)}, []*Tensor{n(1, 1, 0)}},
		{"and", "And", nil, 7, 1, []*Tensor{n(0, 0, 1, 1), n(0, 1, 0, 1)}, []*Tensor{n(0, 0, 0, 1)}},
		{"or", "Or", nil, 7, 1, []*Tensor{n(0, 0, 1, 1), n(0, 1, 0, 1)}, []*Tensor{n(0, 1, 1, 1)}},
		{"not", "Not", nil, 1, 1, []*Tensor{n(0, 1)}, []*Tensor{n(1, 0)}},
	})
}

// valueCase is one forward pass of an operator with the outputs it must give.
type valueCase struct {
	name  string
	op    string
	attrs attrs
	opset int64
	nOut  int
	in    []*Tensor
	want  []*Tensor
}

// checkValues runs each case's forward pass and compares its outputs.
func checkValues(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, test := range cases {
		op := newOp(t, test.op, test.attrs, test.opset, len(test.in), test.nOut)
		got, err := op.Forward(&State{}, test.in)
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		if len(got) != len(test.want) {
			t.Errorf("%s: %d outputs, want %d", test.name, len(got), len(test.want))
			continue
		}
		for i, want := range test.want {
			if msg := ewDiff(got[i], want); msg != "" {
				t.Errorf("%s: output %d: %s", test.name, i, msg)
			}
		}
	}
}

// ewDiff describes how got differs from want, "" when they agree.
func ewDiff(got, want *Tensor) string {
	if !slices.Equal(got.Shape, want.Shape) || got.IsInt() != want.IsInt() {
		return "got " + got.String() + ", want " + want.String()
	}
	if want.IsInt() {
		for i := range want.Ints {
			if got.Ints[i] != want.Ints[i] {
				return fmt.Sprintf("got %v, want %v", got.Ints, want.Ints)
			}
		}
		return ""
	}
	for i, w := range want.Data {
		g := got.Data[i]
		if math.IsInf(float64(w), 0) && g == w {
			continue
		}
		if math.Abs(float64(g-w)) > 1e-6+1e-5*math.Abs(float64(w)) {
			return fmt.Sprintf("got %v, want %v", got.Data, want.Data)
		}
	}
	return ""
}

func TestDropoutTraining(t *testing.T) {
	const ratio = 0.25
	op := newOp(t, "Dropout", attrs{"ratio": ratio}, 7, 1, 2)
	x := NewFloat(10000)
	for i := range x.Data {
		x.Data[i] = 1
	}
	s := &State{Training: true, Grad: true, Rand: rand.New(rand.NewPCG(9, 9))}
	out, err := op.Forward(s, []*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	y, mask := out[0], out[1]
	kept := 0
	for i, v := range y.Data {
		switch {
		case v == 0 && mask.Data[i] == 0:
		case v == 1/(1-float32(ratio)) && mask.Data[i] == 1:
			kept++
		default:
			t.Fatalf("element %d: output %g with mask %g, want 0 with 0 or %g with 1", i, v, mask.Data[i], 1/(1-ratio))
		}
	}
	if frac := float64(kept) / float64(len(y.Data)); math.Abs(frac-(1-ratio)) > 0.02 {
		t.Errorf("kept %.3f of the elements, want about %.2f", frac, 1-ratio)
	}
	g := NewFloat(10000)
	for i := range g.Data {
		g.Data[i] = 2
	}
	dx, err := op.Backward(s, []*Tensor{g, nil})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range dx[0].Data {
		if v != 2*y.Data[i] {
			t.Fatalf("gradient element %d = %g, want %g (the mask applied)", i, v, 2*y.Data[i])
		}
	}
	again, err := op.Forward(&State{Training: true, Rand: rand.New(rand.NewPCG(9, 9))}, []*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	if msg := ewDiff(again[0], y); msg != "" {
		t.Errorf("same seed, different mask: %s", msg)
	}
	// Opset 12 without training_mode follows the runtime's mode.
	op12 := newOp(t, "Dropout", nil, 12, 1, 1)
	if out, err := op12.Forward(&State{}, []*Tensor{x}); err != nil || out[0] != x {
		t.Errorf("opset 12 in inference mode: got %v, %v, want the input back", out, err)
	}
}

func TestElementwiseErrors(t *testing.T) {
	for _, test := range []opCase{
		{"cast to string", "Cast", attrs{"to": int(onnx.TensorProto_STRING)}, 13, nil},
		{"cast to float8", "Cast", attrs{"to": 17}, 19, nil},
		{"constant string", "Constant", attrs{"value_string": "onnx"}, 13, nil},
		{"mean of integers", "Mean", nil, 13, []*Tensor{ewInts([]int{1}, 1)}},
		{"reduce integers", "ReduceSum", nil, 13, []*Tensor{ewInts([]int{1}, 1)}},
		{"clip integers at opset 6", "Clip", nil, 6, []*Tensor{ewInts([]int{1}, 1)}},
	} {
		op, err := New(makeNode(t, test.op, test.attrs, len(test.in), 1), test.opset, "")
		if err == nil {
			_, err = op.Forward(&State{}, test.in)
		}
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: got %v, want ErrUnsupported", test.name, err)
		}
	}
}
