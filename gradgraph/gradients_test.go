//go:build cgo

package gradgraph

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/ortbench"
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
			x, labels := ortbench.RandomBatch(p, n)
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
			checkGrad(t, e, p, x, labels)
			if err := e.Feed(nil); err == nil || !strings.Contains(err.Error(), "FeedWeights") {
				t.Errorf("Feed to a graph that holds its weights: %v, want an error that names FeedWeights", err)
			}
			custom := interp.Want{Input: true, Loss: interp.SoftmaxCrossEntropy}
			if _, err := e.Grad(x, labels, custom); !errors.Is(err, ErrUnsupported) {
				t.Errorf("Grad with a custom loss: %v, want ErrUnsupported", err)
			}
		})
	}
}

// checkGrad compares e.Grad, with input and weight gradients, with p's.
// A weight the loss does not depend on must have no gradient from either.
func checkGrad(t *testing.T, e *Engine, p *interp.Program, x *interp.Tensor, labels []int) {
	t.Helper()
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
	for i, prm := range p.Params() {
		if (a.Params[i] == nil) != (b.Params[i] == nil) {
			t.Errorf("Grad: weight %q has a gradient from the graph: %v, from the interpreter: %v", prm.Name, a.Params[i] != nil, b.Params[i] != nil)
		}
	}
	if worst, at := paramErr(p, true, b.Params, func(i int) []float32 {
		if a.Params[i] == nil {
			return make([]float32, p.Params()[i].T.Len())
		}
		return a.Params[i].Data
	}); worst > tolerance {
		t.Errorf("Grad: weight gradient of %q off by %.3g", at, worst)
	}
}

// TestFeedWeights: a graph built with FeedWeights reads the weights it is
// fed on every run, scalars included, so that a trainer's updates in place
// take effect; it refuses to run unfed, and Feed checks what it is given.
func TestFeedWeights(t *testing.T) {
	testort.Need(t)
	// fmnist_cnn_qdq's quantization scales are scalar weights; on a CPU
	// with NCHWc kernels, fmnist_cnn's 3×3 Convs and convnext_tiny's
	// depthwise ones run in the blocked form, their fed weights reordered
	// on every run.
	for _, name := range []string{"fmnist_cnn", "fmnist_cnn_qdq", "resblock", "vit_tiny", "convnext_tiny"} {
		t.Run(name, func(t *testing.T) {
			m, err := onnx.Load("../testdata/models/" + name + ".onnx")
			if err != nil {
				t.Fatal(err)
			}
			p, err := interp.Compile(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Build(m, &Options{FeedWeights: true, Program: p})
			if err != nil {
				t.Fatal(err)
			}
			if !g.Fed || len(g.Params) != len(p.Params()) || len(g.ParamGrads) != len(p.Params()) {
				t.Fatalf("fed %v: %d weights, %d weight gradients for %d weights", g.Fed, len(g.Params), len(g.ParamGrads), len(p.Params()))
			}
			var notices bytes.Buffer
			e, err := NewEngine(g, &ort.Options{Device: ort.DeviceCPU, Warn: &notices})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			defer func() {
				if notices.Len() > 0 {
					t.Errorf("notices: %q, want none (the blocked form opens)", notices.String())
				}
			}()
			n := 2
			if d := p.Input.Shape[0]; d > 0 {
				n = int(d)
			}
			x, labels := ortbench.RandomBatch(p, n)
			if _, err := e.Grad(x, labels, interp.Want{Input: true}); err == nil || !strings.Contains(err.Error(), "Feed") {
				t.Errorf("Grad before Feed: %v, want an error that names Feed", err)
			}
			w := make([][]float32, len(p.Params()))
			for i, prm := range p.Params() {
				w[i] = prm.T.Data
			}
			if err := e.Feed(w[1:]); err == nil {
				t.Error("Feed took one weight too few")
			}
			short := slices.Clone(w)
			short[0] = short[0][1:]
			if err := e.Feed(short); err == nil || !strings.Contains(err.Error(), g.Params[0]) {
				t.Errorf("Feed of a weight one value short: %v, want an error that names it", err)
			}
			if err := e.Feed(w); err != nil {
				t.Fatal(err)
			}
			checkGrad(t, e, p, x, labels)
			// Training's update, in place: the graph follows. Each value
			// moves by up to 10%, keeping its sign (scales stay positive).
			rng := rand.New(rand.NewPCG(3, 4))
			for _, wi := range w {
				for j := range wi {
					wi[j] *= 0.9 + 0.2*rng.Float32()
				}
			}
			checkGrad(t, e, p, x, labels)
		})
	}
}
