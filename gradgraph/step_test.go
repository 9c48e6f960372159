//go:build cgo

package gradgraph

import (
	"math"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestStepMasksAtKinks runs Relu, ReLU6-style Clip and HardSigmoid on
// inputs placed on and next to their kinks, where the masks built from
// steps (step.go) must match the interpreter's comparisons. The one
// difference is Clip's: x exactly at a bound passes no gradient in the
// graph (the mask is read from y alone, as PyTorch's hardtanh_backward
// does), where the interpreter passes it.
func TestStepMasksAtKinks(t *testing.T) {
	testort.Need(t)
	next := func(v float32, dir float64) float32 { return float32(math.Nextafter32(v, float32(dir))) }
	values := []float32{-2, -1e-30, 0, 0x1p-126, 1e-30, 1e-7, next(0.5, 1), 0.5, next(1, 0), 1, next(1, 2), next(6, 0), 6, next(6, 7), 7,
		-3, next(-3, 0), next(-3, -4), next(3, 0), 3, next(3, 4)}
	bound := func(v float32) in { return in{shape: []int64{}, floats: []float32{v}} }
	for _, test := range []struct {
		name  string
		op    string
		attrs []*onnx.AttributeProto
		ins   []in
		tie   func(x float32) bool // where the graph passes no gradient and the interpreter does
	}{
		{"Relu", "Relu", nil, nil, nil},
		{"Clip 0 6", "Clip", nil, []in{bound(0), bound(6)}, func(x float32) bool { return x == 0 || x == 6 }},
		{"Clip 0.5 1", "Clip", nil, []in{bound(0.5), bound(1)}, func(x float32) bool { return x == 0.5 || x == 1 }},
		{"Clip max only", "Clip", nil, []in{{skip: true}, bound(1)}, func(x float32) bool { return x == 1 }},
		{"HardSigmoid", "HardSigmoid", []*onnx.AttributeProto{aFloat("alpha", 1.0/6), aFloat("beta", 0.5)}, nil, nil},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := oneNode(t, test.op, 13, 1, test.attrs, append([]in{x(1, int64(len(values)))}, test.ins...)...)
			got, want := kinkGrads(t, m, values)
			for i, v := range values {
				w := want[i]
				if test.tie != nil && test.tie(v) {
					if w == 0 {
						t.Errorf("x = %g: the interpreter passes no gradient at the tie; the test expects it to", v)
					}
					w = 0
				}
				if d := math.Abs(float64(got[i] - w)); d > 1e-6*math.Abs(float64(w))+1e-12 {
					t.Errorf("x = %g: input gradient %g, want %g (interpreter %g)", v, got[i], w, want[i])
				}
			}
		})
	}
}

// kinkGrads returns the input gradients of the graph (on ONNX Runtime) and
// the interpreter for one sample x, label 0, of a model without weights.
func kinkGrads(t *testing.T, m *onnx.Model, x []float32) (graph, interpreter []float32) {
	t.Helper()
	gr, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := p.Grad(&interp.Tensor{Shape: []int{1, len(x)}, Data: x}, []int{0}, interp.Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	data, err := gr.Model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sess, err := ort.OpenGraph(data, []string{gr.Input, gr.Labels}, []string{gr.InputGrad}, &ort.Options{Device: ort.DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Run([]ort.Tensor{{Shape: []int64{1, int64(len(x))}, Float: x}, {Shape: []int64{1}, Int: []int64{0}}})
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Float, ref.Input.Data
}
