package fgsm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// nhwcPre is the preprocessing the channels-last tests run with: a
// non-trivial affine map, so the gradient's gain is checked with its
// transposition.
var nhwcPre = dataset.Preprocess{Scale: 1, Mean: []float32{0.2}, Std: []float32{0.5}, Layout: dataset.NHWC}

// TestChannelsLastGradient checks, on the tf2onnx-style NHWC model, that
// the pixel-space gradient is the interpreter's gradient with respect to
// the NHWC input, transposed to NCHW and scaled by the preprocessing's
// gain; that the logits the loss reads are the tensor before the final
// Softmax; and the gradient against central differences of the loss.
func TestChannelsLastGradient(t *testing.T) {
	const n = 3
	m := loadModel(t, "fmnist_nhwc.onnx", nhwcPre)
	if m.C != 1 || m.H != 28 || m.W != 28 {
		t.Fatalf("the model's pixels are %d×%d×%d; want 1×28×28", m.C, m.H, m.W)
	}
	x, labels := testfiles.FashionSlice(t, n)
	x = slices.Clone(x)
	grad := make([]float32, len(x))
	logits, k, err := m.Grad(grad, nil, x, labels, n)
	if err != nil {
		t.Fatal(err)
	}

	// The same pass by hand: NHWC input, the interpreter's gradient, and
	// back. Fashion-MNIST has one channel, so lay the sample out from
	// pixel (h, w) by hand rather than through Preprocess.
	in := make([]float32, len(x))
	for i, v := range x {
		in[i] = (v - 0.2) / 0.5 // one channel: NHWC and NCHW coincide element-wise
	}
	r, err := m.G.Grad(&interp.Tensor{Shape: []int{n, 28, 28, 1}, Data: in}, labels, interp.Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range r.Input.Data {
		// The interpreter's loss is the batch mean; Grad's is the sum.
		if want := g * n / 0.5; math.Abs(float64(grad[i]-want)) > 1e-6*math.Max(1, math.Abs(float64(want))) {
			t.Fatalf("pixel %d: gradient %g, the interpreter's %g", i, grad[i], want)
		}
	}
	if !slices.Equal(r.Logits.Data, logits) {
		t.Errorf("Grad's logits differ from the interpreter's")
	}
	r.Release()

	// The loss reads the Softmax's input: the model's output is its
	// softmax, and the logits are not probabilities.
	probs, pk, err := m.Logits(nil, x, n)
	if err != nil || pk != k {
		t.Fatalf("Logits: %v, %d classes; Grad gave %d", err, pk, k)
	}
	for i := range n {
		row, sum := logits[i*k:(i+1)*k], 0.0
		lse := interp.LogSumExp(row)
		for j, z := range row {
			p := math.Exp(float64(z) - lse)
			if math.Abs(p-float64(probs[i*k+j])) > 1e-5 {
				t.Errorf("sample %d class %d: softmax of the loss's logits %g, model output %g", i, j, p, probs[i*k+j])
			}
			sum += float64(z)
		}
		if math.Abs(sum-1) < 1e-3 && !slices.ContainsFunc(row, func(z float32) bool { return z < 0 }) {
			t.Errorf("sample %d: the loss reads %v, probabilities; want the tensor before Softmax", i, row)
		}
	}

	// Central differences of the summed cross-entropy, -log p[y] from the
	// model's softmax output, in NCHW pixel space.
	loss := func(x []float32) float64 {
		p, k, err := m.Logits(nil, x, n)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, y := range labels {
			s -= math.Log(float64(p[i*k+y]))
		}
		return s
	}
	checkPixelGradient(t, grad, x, loss, 1, 16)
}

// TestChannelsLastMatchesTransposedInput checks that the model seen from
// NCHW pixels with layout NHWC gives, for three-channel data, what the
// interpreter gives on the input transposed by hand, forward and backward.
// The graph (Transpose, Flatten, MatMul) has three channels, so they
// really move.
func TestChannelsLastMatchesTransposedInput(t *testing.T) {
	const n, c, h, w = 2, 3, 4, 5
	model, _ := testfiles.NHWCLinear(t, h, w, c, 4, 1)
	pre := dataset.Preprocess{Scale: 2, Mean: []float32{0.1, 0.2, 0.3}, Std: []float32{0.5, 0.25, 2}, Layout: dataset.NHWC}
	m := compileModel(t, model, pre)
	if m.C != c || m.H != h || m.W != w {
		t.Fatalf("the model's pixels are %d×%d×%d; want %d×%d×%d", m.C, m.H, m.W, c, h, w)
	}
	rng := rand.New(rand.NewPCG(1, 17))
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := []int{1, 3}
	grad := make([]float32, len(x))
	logits, k, err := m.Grad(grad, nil, x, labels, n)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: in[b,y,z,ch] = (2·x[b,ch,y,z] − mean[ch]) / std[ch].
	at := func(b, ch, y, z int) int { return ((b*c+ch)*h+y)*w + z }
	in := make([]float32, len(x))
	for b := range n {
		for ch := range c {
			for y := range h {
				for z := range w {
					in[((b*h+y)*w+z)*c+ch] = (2*x[at(b, ch, y, z)] - pre.Mean[ch]) / pre.Std[ch]
				}
			}
		}
	}
	r, err := m.G.Grad(&interp.Tensor{Shape: []int{n, h, w, c}, Data: in}, labels, interp.Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(r.Logits.Data, logits[:n*k], func(a, b float32) bool { return math.Abs(float64(a-b)) <= 1e-6 }) {
		t.Errorf("logits %v; the interpreter on the transposed input gives %v", logits, r.Logits.Data)
	}
	for b := range n {
		for ch := range c {
			for y := range h {
				for z := range w {
					g := r.Input.Data[((b*h+y)*w+z)*c+ch]
					want := g * n * 2 / pre.Std[ch] // batch mean → sum; d(in)/d(pixel) = 2/std
					if got := grad[at(b, ch, y, z)]; math.Abs(float64(got-want)) > 1e-6*math.Max(1, math.Abs(float64(want))) {
						t.Fatalf("pixel (%d,%d,%d,%d): gradient %g; the transposed input gradient gives %g", b, ch, y, z, got, want)
					}
				}
			}
		}
	}
}
