package export

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Verify's checks before ONNX Runtime is loaded, and its error measure;
// these need no ONNX Runtime.

func TestVerifyBadBatch(t *testing.T) {
	p := compile(t, load(t, testfiles.Path("models", "fmnist_cnn.onnx")))
	path := testfiles.Path("models", "fmnist_cnn.onnx")
	for _, x := range []*interp.Tensor{
		nil,
		{Shape: []int{2, 1, 27, 28}, Data: make([]float32, 2*27*28)},
		{Shape: []int{2, 784}, Data: make([]float32, 2*784)},
		{Shape: []int{0, 1, 28, 28}},
		{Shape: []int{2, 1, 28, 28}, Data: make([]float32, 5)},
	} {
		if _, err := Verify(path, p, x, 1e-4, nil); err == nil || !strings.Contains(err.Error(), "Verify") {
			t.Errorf("batch %v: got %v, want an error from Verify", x, err)
		}
	}
}

func TestMaxRelErr(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for i, test := range []struct {
		a, b []float32
		want float64
		at   int
	}{
		{[]float32{1, 2}, []float32{1, 2}, 0, 0},
		{[]float32{1, 2.2}, []float32{1, 2}, 0.1, 1},
		{[]float32{1e-4, 0}, []float32{0, 0}, 0.1, 0}, // below the floor: |a−b| / 1e-3
		{[]float32{nan, 1}, []float32{nan, 1}, 0, 0},
		{[]float32{1, nan}, []float32{1, 3}, math.Inf(1), 1},
		{[]float32{inf}, []float32{inf}, 0, 0},
	} {
		got, at := maxRelErr(test.a, test.b)
		if math.Abs(got-test.want) > 1e-6*max(1, test.want) && got != test.want || at != test.at {
			t.Errorf("%d: maxRelErr(%v, %v) = %v at %d, want %v at %d", i, test.a, test.b, got, at, test.want, test.at)
		}
	}
}
