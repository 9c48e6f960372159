//go:build cgo

package gradgraph

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestEngineAsProgram checks the Engine's InputInfo, Run and Grad against
// the interpreter's Program, on models with a dynamic and a fixed batch,
// one ending in a Softmax (whose Run output is not the logits) and ones
// with BatchNormalization and a residual connection.
func TestEngineAsProgram(t *testing.T) {
	testort.Need(t)
	for _, name := range []string{"fmnist_cnn", "fmnist_cnn_b1_255", "fmnist_nhwc", "resblock", "vit_tiny"} {
		t.Run(name, func(t *testing.T) {
			m, err := onnx.Load("../testdata/models/" + name + ".onnx")
			if err != nil {
				t.Fatal(err)
			}
			g, err := Build(m, &Options{Weights: true})
			if err != nil {
				t.Fatal(err)
			}
			e, err := NewEngine(g, &ort.Options{Device: ort.DeviceCPU})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			p, err := interp.Compile(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := p.Input, e.InputInfo(); a.Name != b.Name || len(a.Shape) != len(b.Shape) || a.Shape[0] > 0 != (b.Shape[0] > 0) {
				t.Errorf("InputInfo %+v, the interpreter's %+v", b, a)
			}
			n := 3
			if d := p.Input.Shape[0]; d > 0 {
				n = int(d)
			}
			shape := []int{n}
			for _, d := range p.Input.Shape[1:] {
				shape = append(shape, int(d))
			}
			x := &interp.Tensor{Shape: shape, Data: make([]float32, n*prod(shape[1:]))}
			rng := rand.New(rand.NewPCG(9, 9))
			for i := range x.Data {
				x.Data[i] = rng.Float32()
			}
			labels := make([]int, n)
			for i := range labels {
				labels[i] = rng.IntN(3)
			}
			got, err := e.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			want, err := p.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || relErr(got[0].Data, want[0].Data) > tolerance {
				t.Errorf("Run: %d outputs, the interpreter %d; first off by %.3g", len(got), len(want), relErr(got[0].Data, want[0].Data))
			}
			wantAll := interp.Want{Input: true, Params: true}
			a, err := e.Grad(x, labels, wantAll)
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.Grad(x, labels, wantAll)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(a.Loss-b.Loss) > 1e-5*b.Loss || relErr(a.Logits.Data, b.Logits.Data) > tolerance || relErr(a.Input.Data, b.Input.Data) > tolerance {
				t.Errorf("Grad: loss %v (interpreter %v), logits off by %.3g, input gradient by %.3g", a.Loss, b.Loss,
					relErr(a.Logits.Data, b.Logits.Data), relErr(a.Input.Data, b.Input.Data))
			}
			if worst, at := paramErr(p, true, b.Params, func(i int) []float32 { return a.Params[i].Data }); worst > tolerance {
				t.Errorf("Grad: weight gradient of %q off by %.3g", at, worst)
			}
			custom := interp.Want{Input: true, Loss: interp.SoftmaxCrossEntropy}
			if _, err := e.Grad(x, labels, custom); !errors.Is(err, ErrUnsupported) {
				t.Errorf("Grad with a custom loss: %v, want ErrUnsupported", err)
			}
		})
	}
}
