package ops

import (
	"math/rand/v2"
	"testing"
)

// The operators of nn_test.go on CIFAR-sized activations (a batch of 32,
// 64 channels of 32×32): one forward and one backward pass per iteration.

func BenchmarkMaxPool2x2(b *testing.B) {
	benchmarkNN(b, "MaxPool", attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}}, 13, false, nnAct())
}

func BenchmarkMaxPool3x3Pad(b *testing.B) {
	benchmarkNN(b, "MaxPool", attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, 13, false, nnAct())
}

func BenchmarkAveragePool3x3Pad(b *testing.B) {
	benchmarkNN(b, "AveragePool", attrs{"kernel_shape": []int64{3, 3}, "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, 13, false, nnAct())
}

func BenchmarkGlobalAveragePool(b *testing.B) {
	benchmarkNN(b, "GlobalAveragePool", nil, 13, false, nnAct())
}

// The activations of MobileNet-V2 (ReLU6), EfficientNet (SiLU, fused)
// and squeeze-and-excitation's channel scale.

func BenchmarkClipRelu6(b *testing.B) {
	benchmarkNN(b, "Clip", nil, 13, false, nnAct(), ewFloats(nil, 0), ewFloats(nil, 0.5))
}

func BenchmarkSiLU(b *testing.B) { benchmarkOp(b, siluGate, false, nnAct()) }

func BenchmarkSqueezeExciteMul(b *testing.B) {
	benchmarkNN(b, "Mul", nil, 14, false, nnAct(), randTensor(rand.New(rand.NewPCG(5, 6)), 0, 1, 32, 64, 1, 1))
}

func BenchmarkBatchNorm(b *testing.B) {
	benchmarkNN(b, "BatchNormalization", nil, 15, false, nnBN()...)
}

func BenchmarkBatchNormTraining(b *testing.B) {
	benchmarkNN(b, "BatchNormalization", nil, 15, true, nnBN()...)
}

func BenchmarkConvTranspose(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	benchmarkNN(b, "ConvTranspose", attrs{"strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}, "output_padding": []int64{1, 1}}, 13, false,
		randTensor(rng, -1, 1, 32, 64, 16, 16), randTensor(rng, -1, 1, 64, 32, 3, 3), randTensor(rng, -1, 1, 32))
}

func BenchmarkResizeLinear(b *testing.B) {
	benchmarkNN(b, "Resize", attrs{"mode": "linear"}, 13, false, nnAct(), nil, nnFloats([]int{4}, 1, 1, 2, 2))
}

func BenchmarkResizeNearest(b *testing.B) {
	benchmarkNN(b, "Resize", nil, 13, false, nnAct(), nil, nnFloats([]int{4}, 1, 1, 2, 2))
}

func BenchmarkPadReflect(b *testing.B) {
	benchmarkNN(b, "Pad", attrs{"mode": "reflect"}, 13, false, nnAct(), nnInts(0, 0, 1, 1, 0, 0, 1, 1))
}

func BenchmarkMatMulBatched(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	benchmarkNN(b, "MatMul", nil, 13, false, randTensor(rng, -1, 1, 32, 64, 128), randTensor(rng, -1, 1, 128, 256))
}

func nnAct() *Tensor { return randTensor(rand.New(rand.NewPCG(1, 2)), -1, 1, 32, 64, 32, 32) }

func nnBN() []*Tensor {
	rng := rand.New(rand.NewPCG(3, 4))
	return []*Tensor{nnAct(), randTensor(rng, 0.5, 1.5, 64), randTensor(rng, -1, 1, 64), randTensor(rng, -1, 1, 64), randTensor(rng, 0.5, 1.5, 64)}
}

func benchmarkNN(b *testing.B, opType string, a attrs, opset int64, training bool, in ...*Tensor) {
	benchmarkOp(b, newOp(b, opType, a, opset, len(in), 1), training, in...)
}

// benchmarkOp runs op forward and backward, with the gradients of all
// its inputs wanted.
func benchmarkOp(b *testing.B, op Op, training bool, in ...*Tensor) {
	s := &State{Grad: true, Training: training}
	outs, err := op.Forward(s, in)
	if err != nil {
		b.Fatal(err)
	}
	dy := []*Tensor{nnOnes(outs[0])}
	b.SetBytes(int64(4 * in[0].Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := op.Forward(s, in); err != nil {
			b.Fatal(err)
		}
		if _, err := op.Backward(s, dy); err != nil {
			b.Fatal(err)
		}
	}
}
