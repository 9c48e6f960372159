package gradtest

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

func compile(t testing.TB, name string) *interp.Program {
	t.Helper()
	m, err := onnx.Load(testfiles.Path("models", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, &interp.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// batch returns the model's test input, Fashion-MNIST images in its
// layout or its .input.npy, and labels.
func batch(t testing.TB, name string) (*interp.Tensor, []int) {
	t.Helper()
	switch name {
	case "fmnist_cnn":
		x, labels := testfiles.FashionSlice(t, 4)
		return &interp.Tensor{Shape: []int{4, 1, 28, 28}, Data: x}, labels
	case "fmnist_nhwc":
		x, labels := testfiles.FashionSlice(t, 4) // 1 channel: NCHW and NHWC hold the same values
		return &interp.Tensor{Shape: []int{4, 28, 28, 1}, Data: x}, labels
	}
	x, shape := testfiles.ReadNpy(t, testfiles.Path("models", name+".input.npy"))
	labels := make([]int, shape[0])
	for i := range labels {
		labels[i] = i % 3
	}
	return &interp.Tensor{Shape: shape, Data: x}, labels
}

// TestInterpreter runs the contract suite on the interpreter.
func TestInterpreter(t *testing.T) {
	for _, name := range []string{"fmnist_cnn", "fmnist_nhwc", "resblock", "dropout", "mobile", "normalized"} {
		t.Run(name, func(t *testing.T) {
			p := compile(t, name)
			x, labels := batch(t, name)
			Check(t, p, x, labels)
		})
	}
}

// recorder keeps what a check reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// Fatalf records and ends the goroutine, which run started.
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// run calls check with r on a goroutine of its own, for Fatalf to end.
func (r *recorder) run(check func(testing.TB)) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.errs
}

// skewed is an implementation whose input gradient is off by a factor.
type skewed struct {
	fgsm.Gradients
	by float32
}

func (s skewed) Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error) {
	r, err := s.Gradients.Grad(x, labels, want)
	if err == nil && r.Input != nil {
		for i := range r.Input.Data {
			r.Input.Data[i] *= s.by
		}
	}
	return r, err
}

// TestCompare checks that Compare accepts a second compilation of the same
// model and reports an input gradient 1% off.
func TestCompare(t *testing.T) {
	p := compile(t, "resblock")
	x, labels := batch(t, "resblock")
	for _, test := range []struct {
		got  fgsm.Gradients
		fail bool
	}{
		{compile(t, "resblock"), false},
		{skewed{compile(t, "resblock"), 1.01}, true},
	} {
		errs := (&recorder{TB: t}).run(func(tb testing.TB) { Compare(tb, p, test.got, x, labels, 1e-4) })
		if failed := len(errs) > 0; failed != test.fail {
			t.Errorf("%T: Compare reported %q, want a failure: %v", test.got, errs, test.fail)
		}
	}
}

// TestCheckCatchesWrongGradients checks that Check fails an
// implementation whose input gradient is 5% too large.
func TestCheckCatchesWrongGradients(t *testing.T) {
	p := compile(t, "fmnist_cnn")
	x, labels := batch(t, "fmnist_cnn")
	if errs := (&recorder{TB: t}).run(func(tb testing.TB) { Check(tb, skewed{p, 1.05}, x, labels) }); len(errs) == 0 {
		t.Error("Check passed an input gradient 5% too large")
	}
}
