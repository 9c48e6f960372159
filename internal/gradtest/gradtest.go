// Package gradtest is the contract suite of fgsm.Gradients, the interface
// through which attacks and training get logits and loss gradients: one
// set of checks, the implementation a parameter (as gonum's testblas takes
// a BLAS), so the interpreter's Program and an ONNX Runtime gradient graph
// pass the same tests. Check tests one implementation on its own (shapes,
// the loss, a directional derivative against central differences, per-call
// mode, per-sample gradients); Compare tests one against a reference.
package gradtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Check runs g on batch x (in the model's input space, at least two
// samples) with labels and checks what every implementation promises:
//
//   - Run's first output and Grad's logits are per sample, and agree on
//     the class (Run may end in a Softmax the loss skips);
//   - Grad's default loss is the mean softmax cross-entropy of its logits,
//     and a Want.Loss replaces it;
//   - the input gradient has x's shape and matches central differences of
//     the loss along a seeded direction;
//   - an inference pass after a training-mode pass computes what the
//     first inference pass did (the mode went with the call);
//   - where the batch is dynamic, a sample's gradient alone is the batch's
//     times the batch size (the mean's 1/N), so samples do not mix.
func Check(t testing.TB, g fgsm.Gradients, x *interp.Tensor, labels []int) {
	t.Helper()
	n := x.Shape[0]
	in := g.InputInfo()
	if len(in.Shape) != len(x.Shape) || n < 2 || len(labels) != n {
		t.Fatalf("input %q is %v; want a batch of at least two samples of that rank with a label each, got %v and %d labels", in.Name, in.Shape, x.Shape, len(labels))
	}
	outs, err := g.Run(x)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r, err := g.Grad(x, labels, interp.Want{Input: true})
	if err != nil {
		t.Fatalf("Grad: %v", err)
	}
	k := checkShapes(t, outs[0], r, x)
	ce, _, err := interp.SoftmaxCrossEntropy(r.Logits, labels)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.Loss, ce, 1e-5) {
		t.Errorf("Grad's loss is %g, the mean cross-entropy of its logits %g", r.Loss, ce)
	}
	for i := range n {
		if a, b := argmax(outs[0].Data[i*k:(i+1)*k]), argmax(r.Logits.Data[i*k:(i+1)*k]); a != b {
			t.Errorf("sample %d: Run's first output ranks class %d first, Grad's logits class %d", i, a, b)
		}
	}
	grad := slices.Clone(r.Input.Data)
	r.Release()
	checkDirection(t, g, x, labels)
	checkCustomLoss(t, g, x, labels, k)
	checkModeDoesNotStick(t, g, x, labels, grad)
	if in.Shape[0] <= 0 {
		checkPerSample(t, g, x, labels, grad)
	}
}

// checkShapes checks the first output's and the result's shapes and
// returns the number of classes.
func checkShapes(t testing.TB, out *interp.Tensor, r *interp.Result, x *interp.Tensor) int {
	t.Helper()
	n := x.Shape[0]
	if out.IsInt() || len(out.Shape) == 0 || out.Shape[0] != n {
		t.Fatalf("Run's first output %v is not a batch of %d", out.Shape, n)
	}
	if r.Logits == nil || len(r.Logits.Shape) == 0 || r.Logits.Shape[0] != n || r.Logits.Len() != out.Len() {
		t.Fatalf("Grad's logits %v are not a batch of %d of Run's first output's size %v", r.Logits, n, out.Shape)
	}
	if r.Input == nil || !slices.Equal(r.Input.Shape, x.Shape) || len(r.Input.Data) != x.Len() {
		t.Fatalf("Grad's input gradient %v does not have the input's shape %v", r.Input, x.Shape)
	}
	return out.Len() / n
}

// loss returns the default loss at x, asking for no gradient.
func loss(t testing.TB, g fgsm.Gradients, x *interp.Tensor, labels []int) float64 {
	t.Helper()
	r, err := g.Grad(x, labels, interp.Want{})
	if err != nil {
		t.Fatalf("Grad without gradients: %v", err)
	}
	return r.Loss
}

// checkDirection compares the input gradient's slope along a direction
// with central differences of the loss. The direction is the gradient's
// plus a seeded random one, each of unit length, so that the slope is
// large against float32 rounding of the loss, and a step of 1e-2 along it
// stays nearly linear. x moves by a seeded jitter first: images have runs
// of exact zeros that put ReLUs exactly on their kink, where the two
// one-sided slopes differ.
func checkDirection(t testing.TB, g fgsm.Gradients, x *interp.Tensor, labels []int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	x0 := &interp.Tensor{Shape: x.Shape, Data: slices.Clone(x.Data)}
	rnd := make([]float64, x.Len())
	for i := range rnd {
		x0.Data[i] += float32(0.05 * (rng.Float64()*2 - 1))
		rnd[i] = rng.NormFloat64()
	}
	r, err := g.Grad(x0, labels, interp.Want{Input: true})
	if err != nil {
		t.Fatalf("Grad: %v", err)
	}
	grad := make([]float64, x.Len())
	for i, v := range r.Input.Data {
		grad[i] = float64(v)
	}
	r.Release()
	gn, rn := norm(grad), norm(rnd)
	if gn == 0 {
		t.Fatal("the input gradient is zero")
	}
	d := make([]float32, len(grad))
	var want float64
	for i := range d {
		d[i] = float32(grad[i]/gn + rnd[i]/rn)
		want += float64(d[i]) * grad[i]
	}
	const h = 1e-2
	shifted := func(s float32) *interp.Tensor {
		y := &interp.Tensor{Shape: x.Shape, Data: slices.Clone(x0.Data)}
		for i := range y.Data {
			y.Data[i] += s * d[i]
		}
		return y
	}
	got := (loss(t, g, shifted(h), labels) - loss(t, g, shifted(-h), labels)) / (2 * h)
	if math.Abs(got-want) > 1e-2*math.Abs(want) {
		t.Errorf("along a direction the input gradient gives slope %g, central differences %g", want, got)
	}
}

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// checkCustomLoss checks that Want.Loss replaces the cross-entropy: the
// sum of each sample's logit for its label, whose gradient with respect
// to the logits is one-hot.
func checkCustomLoss(t testing.TB, g fgsm.Gradients, x *interp.Tensor, labels []int, k int) {
	t.Helper()
	var want float64
	pick := func(logits *interp.Tensor, labels []int) (float64, *interp.Tensor, error) {
		d := &interp.Tensor{Shape: slices.Clone(logits.Shape), Data: make([]float32, logits.Len())}
		var sum float64
		for i, y := range labels {
			sum += float64(logits.Data[i*k+y])
			d.Data[i*k+y] = 1
		}
		want = sum
		return sum, d, nil
	}
	r, err := g.Grad(x, labels, interp.Want{Input: true, Loss: pick})
	if err != nil {
		t.Fatalf("Grad with a Want.Loss: %v", err)
	}
	defer r.Release()
	if r.Loss != want {
		t.Errorf("Grad with a Want.Loss returned loss %g, the loss gave %g", r.Loss, want)
	}
}

// checkModeDoesNotStick runs a training-mode pass and then checks that an
// inference pass gives the first inference pass's gradient. A training
// pass may move BatchNorm's running statistics; those are part of what it
// trains, so models with BatchNorm freeze it here.
func checkModeDoesNotStick(t testing.TB, g fgsm.Gradients, x *interp.Tensor, labels []int, want []float32) {
	t.Helper()
	r, err := g.Grad(x, labels, interp.Want{Mode: interp.Mode{Training: true, FreezeBatchNorm: true}, Input: true})
	if err != nil {
		t.Fatalf("Grad in training mode: %v", err)
	}
	r.Release()
	if r, err = g.Grad(x, labels, interp.Want{Input: true}); err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if e := maxRelErr(r.Input.Data, want); e > 1e-6 {
		t.Errorf("after a training-mode pass the inference gradient differs by %g relative: the mode stuck", e)
	}
}

// checkPerSample computes the first sample's gradient alone and compares
// it with the batch's.
func checkPerSample(t testing.TB, g fgsm.Gradients, x *interp.Tensor, labels []int, batch []float32) {
	t.Helper()
	n, per := x.Shape[0], x.Len()/x.Shape[0]
	one := &interp.Tensor{Shape: append([]int{1}, x.Shape[1:]...), Data: x.Data[:per]}
	r, err := g.Grad(one, labels[:1], interp.Want{Input: true})
	if err != nil {
		t.Fatalf("Grad on one sample: %v", err)
	}
	defer r.Release()
	scaled := make([]float32, per)
	for i, v := range batch[:per] {
		scaled[i] = v * float32(n)
	}
	if e := maxRelErr(r.Input.Data, scaled); e > 1e-4 {
		t.Errorf("sample 0's gradient alone differs from %d × its gradient in the batch by %g relative", n, e)
	}
}

// Compare runs ref, the reference implementation, and got on batch x with
// labels and checks that got's outputs, logits, loss and input gradient
// (inference mode) and its parameter gradients (training mode with
// BatchNorm frozen, where both give them) are ref's within relative error
// tol, measured against the largest magnitude of each of ref's tensors.
func Compare(t testing.TB, ref, got fgsm.Gradients, x *interp.Tensor, labels []int, tol float64) {
	t.Helper()
	if a, b := ref.InputInfo(), got.InputInfo(); a.Name != b.Name || !slices.Equal(a.Shape, b.Shape) {
		t.Errorf("input %q %v, the reference's %q %v", b.Name, b.Shape, a.Name, a.Shape)
	}
	outA, errA := ref.Run(x)
	outB, errB := got.Run(x)
	if errA != nil || errB != nil {
		t.Errorf("Run: the reference: %v; the other: %v", errA, errB)
		return
	}
	compare(t, "Run's first output", outA[0], outB[0], tol)
	for _, want := range []interp.Want{{Input: true}, {Mode: interp.Mode{Training: true, FreezeBatchNorm: true}, Params: true}} {
		a, errA := ref.Grad(x, labels, want)
		b, errB := got.Grad(x, labels, want)
		if errA != nil || errB != nil {
			t.Errorf("Grad %+v: the reference: %v; the other: %v", want, errA, errB)
			return
		}
		if !near(a.Loss, b.Loss, tol) {
			t.Errorf("Grad %+v: loss %g, the reference's %g", want, b.Loss, a.Loss)
		}
		compare(t, "logits", a.Logits, b.Logits, tol)
		if want.Input {
			compare(t, "the input gradient", a.Input, b.Input, tol)
		}
		if len(b.Params) > 0 && len(a.Params) != len(b.Params) {
			t.Errorf("%d parameter gradients, the reference has %d", len(b.Params), len(a.Params))
		}
		for i := range min(len(a.Params), len(b.Params)) {
			if a.Params[i] != nil && b.Params[i] != nil {
				compare(t, fmt.Sprintf("parameter gradient %d", i), a.Params[i], b.Params[i], tol)
			}
		}
		a.Release()
		b.Release()
	}
}

func compare(t testing.TB, what string, want, got *interp.Tensor, tol float64) {
	t.Helper()
	if want == nil || got == nil || !slices.Equal(want.Shape, got.Shape) {
		t.Errorf("%s: %v, the reference's %v", what, got, want)
		return
	}
	if e := maxRelErr(got.Data, want.Data); e > tol {
		t.Errorf("%s differs from the reference's by %g relative, above %g", what, e, tol)
	}
}

// maxRelErr is max |a−b| over the largest |b| (at least 1e-6).
func maxRelErr(a, b []float32) float64 {
	scale, worst := 1e-6, 0.0
	for _, v := range b {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range b {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = math.Max(worst, d)
	}
	return worst / scale
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(math.Abs(b), 1e-6) }

func argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}
