//go:build cgo

package gradgraph

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestEngineMatchesInterpreter runs Engine.LossGrad on a model with a
// dynamic batch (one run) and on one exported with a fixed batch of 1 (a
// run per sample, gradients rescaled to the mean over the batch), against
// the interpreter's loss, logits and input gradient.
func TestEngineMatchesInterpreter(t *testing.T) {
	testort.Need(t)
	for _, name := range []string{"fmnist_cnn", "fmnist_cnn_b1_255"} {
		t.Run(name, func(t *testing.T) {
			m, err := onnx.Load("../testdata/models/" + name + ".onnx")
			if err != nil {
				t.Fatal(err)
			}
			g, err := Build(m, nil)
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
			const n, per = 3, 28 * 28
			rng := rand.New(rand.NewPCG(5, 5))
			x := make([]float32, n*per)
			for i := range x {
				x[i] = rng.Float32()
			}
			labels := []int{7, 0, 7}
			logits, loss, grad, err := e.LossGrad(x, labels, n)
			if err != nil {
				t.Fatal(err)
			}
			wantLogits, wantLoss, wantGrad := interpLossGrad(t, p, x, labels, n, per)
			if e := relErr(logits, wantLogits); e > tolerance {
				t.Errorf("logits: relative error %.3g", e)
			}
			if e := relErr(grad, wantGrad); e > tolerance {
				t.Errorf("input gradient: relative error %.3g", e)
			}
			if math.Abs(loss-wantLoss) > 1e-5*wantLoss {
				t.Errorf("loss %v, interpreter %v", loss, wantLoss)
			}
			if _, _, _, err := e.LossGrad(x, labels[:2], n); err == nil {
				t.Errorf("LossGrad with 2 labels for 3 samples: no error")
			}
		})
	}
}

// interpLossGrad is the interpreter's mean loss over n samples, run as one
// batch, or sample by sample for a model with a fixed batch of 1.
func interpLossGrad(t *testing.T, p *interp.Program, x []float32, labels []int, n, per int) (logits []float32, loss float64, grad []float32) {
	t.Helper()
	chunk := n
	if p.Input.Shape[0] > 0 {
		chunk = int(p.Input.Shape[0])
	}
	for s := 0; s < n; s += chunk {
		xt := &interp.Tensor{Shape: []int{chunk, 1, 28, 28}, Data: x[s*per : (s+chunk)*per]}
		r, err := p.Grad(xt, labels[s:s+chunk], interp.Want{Input: true})
		if err != nil {
			t.Fatal(err)
		}
		logits = append(logits, r.Logits.Data...)
		loss += r.Loss * float64(chunk) / float64(n)
		for _, v := range r.Input.Data {
			grad = append(grad, v*float32(chunk)/float32(n))
		}
	}
	return logits, loss, grad
}
