package fgsm

import (
	"fmt"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Gradients is a differentiable classifier as attacks and training use
// it: a batch in the model's input space in, its outputs, logits and loss
// gradients out. The interpreter's *interp.Program implements it; an ONNX
// Runtime gradient graph can too (a Loss it cannot differentiate, or a
// training Mode it does not have, is then an error from Grad).
type Gradients interface {
	// InputInfo declares the model's one input: its name, and its shape
	// with the batch first (fixed where positive).
	InputInfo() onnx.ValueInfo
	// Run returns the model's outputs for batch x, in inference mode.
	Run(x *interp.Tensor) ([]*interp.Tensor, error)
	// Grad runs the forward pass in want.Mode, the loss (want.Loss, or
	// the mean softmax cross-entropy against labels) and the backward
	// pass for batch x, giving the gradients want asks for. The caller
	// calls Release on the result once it has read the input gradient.
	Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error)
}

var _ Gradients = (*interp.Program)(nil)

// Model is a classifier seen from pixel space: it takes NCHW pixels in
// [0,1], applies the preprocessing (which puts them in the model's layout,
// NCHW or NHWC), and gives logits and the gradient of the loss with
// respect to the pixels. C, H and W are the pixels' dimensions whatever
// the layout. It is not safe for concurrent use.
type Model struct {
	G       Gradients
	Pre     dataset.Preprocess
	C, H, W int
	fixed   int // the model's fixed batch size, 0 when the batch is dynamic
	in      []float32
	pad     []int
}

// NewModel wraps a model (a compiled *interp.Program, or another engine's
// gradients) whose input is N×C×H×W, or N×H×W×C when pre.Layout is NHWC,
// with preprocessing pre. The model runs in inference mode while attacking.
func NewModel(g Gradients, pre dataset.Preprocess) (*Model, error) {
	in := g.InputInfo()
	s := in.Shape
	d := pre.Layout.SampleDims(s)
	if d == nil || d[0] <= 0 || d[1] <= 0 || d[2] <= 0 {
		return nil, fmt.Errorf("model input %q has shape %v; attacks need images, %s with C, H and W fixed", in.Name, s, pre.Layout.Axes())
	}
	m := &Model{G: g, Pre: pre, C: int(d[0]), H: int(d[1]), W: int(d[2])}
	if s[0] > 0 {
		m.fixed = int(s[0])
	}
	if err := pre.Validate(m.C); err != nil {
		return nil, err
	}
	return m, nil
}

// Per returns the number of values in one sample.
func (m *Model) Per() int { return m.C * m.H * m.W }

// chunks calls do for runs of at most the model's fixed batch (or all n at
// once), with the pixels of those samples already preprocessed and padded
// with zeros to the fixed batch.
func (m *Model) chunks(x []float32, n int, do func(in *interp.Tensor, first, k int) error) error {
	per := m.Per()
	if len(x) != n*per {
		return fmt.Errorf("%d pixel values for %d samples of %d×%d×%d", len(x), n, m.C, m.H, m.W)
	}
	var err error
	m.in, err = runtime.Batches(m.in, n, m.fixed, per, func(dst []float32, first, k int) {
		m.Pre.Apply(dst, x[first*per:(first+k)*per], m.C, m.H*m.W)
	}, func(batch []float32, first, k int) error {
		return do(&interp.Tensor{Shape: m.Pre.Layout.Shape(len(batch)/per, m.C, m.H, m.W), Data: batch}, first, k)
	})
	return err
}

// Logits returns the n×K logits of n samples of pixels x and K. dst is reused
// when large enough.
func (m *Model) Logits(dst, x []float32, n int) ([]float32, int, error) {
	dst = dst[:0]
	k := 0
	err := m.chunks(x, n, func(in *interp.Tensor, first, cnt int) error {
		outs, err := m.G.Run(in)
		if err != nil {
			return err
		}
		o := outs[0]
		if o.IsInt() || len(o.Shape) == 0 || o.Shape[0] != in.Shape[0] {
			return fmt.Errorf("the model's first output %v is not a batch of scores", o)
		}
		k = o.Len() / o.Shape[0]
		dst = append(dst, o.Data[:cnt*k]...)
		return nil
	})
	return dst, k, err
}

// Score is Logits as a Scorer: the interpreter classifying pixels, as
// deployed when no other runtime checks the model.
func (m *Model) Score(dst, x []float32, n int) ([]float32, error) {
	dst, _, err := m.Logits(dst, x, n)
	return dst, err
}

// Grad sets grad to the gradient, with respect to the pixels x of n samples,
// of the sum of their softmax cross-entropy losses against labels, and
// returns the logits (n×K, of the tensor the loss reads) and K. Each sample's
// gradient depends on that sample only, whatever the batch. grad must hold
// len(x) values.
func (m *Model) Grad(grad, logits, x []float32, labels []int, n int) ([]float32, int, error) {
	return m.grad(grad, logits, x, labels, n, nil)
}

// SampleLoss gives, for one sample's row of logits and its label, the
// sample's loss and its gradient with respect to the row, written into
// dRow (zeroed beforehand). It must read nothing but its arguments (and
// the sample index i, the sample's place in the call), so that a sample's
// gradient depends on that sample alone.
type SampleLoss func(dRow, row []float32, label, i int) float64

// LossGrad is Grad for any per-sample loss: it sets grad to the gradient,
// with respect to the pixels x of n samples, of the sum of loss over the
// samples, and returns their logits (n×K) and K. Attacks use it for
// margin losses (DLR) and for the gradient of one logit difference (FAB).
func (m *Model) LossGrad(grad, logits, x []float32, labels []int, n int, loss SampleLoss) ([]float32, int, error) {
	if loss == nil {
		return nil, 0, fmt.Errorf("LossGrad needs a loss")
	}
	return m.grad(grad, logits, x, labels, n, loss)
}

func (m *Model) grad(grad, logits, x []float32, labels []int, n int, loss SampleLoss) ([]float32, int, error) {
	if len(grad) != len(x) {
		return nil, 0, fmt.Errorf("gradient buffer of %d values for %d pixels", len(grad), len(x))
	}
	if len(labels) != n {
		return nil, 0, fmt.Errorf("%d labels for %d samples", len(labels), n)
	}
	logits = logits[:0]
	k, per := 0, m.Per()
	err := m.chunks(x, n, func(in *interp.Tensor, first, cnt int) error {
		lab := labels[first : first+cnt]
		if b := in.Shape[0]; b > cnt {
			m.pad = append(append(m.pad[:0], lab...), make([]int, b-cnt)...)
			lab = m.pad
		}
		want := interp.Want{Input: true}
		if loss != nil {
			want.Loss = sampleLoss(loss, first, cnt)
		}
		r, err := m.G.Grad(in, lab, want)
		if err != nil {
			return err
		}
		k = r.Logits.Len() / r.Logits.Shape[0]
		logits = append(logits, r.Logits.Data[:cnt*k]...)
		// The interpreter's loss is the batch mean; scale back to the sum
		// so a sample's gradient does not depend on the batch size.
		g := grad[first*per : (first+cnt)*per]
		m.Pre.Backward(g, r.Input.Data[:cnt*per], m.C, m.H*m.W)
		r.Release()
		if loss != nil {
			return nil // a SampleLoss is summed already
		}
		scale := float32(in.Shape[0])
		for i := range g {
			g[i] *= scale
		}
		return nil
	})
	return logits, k, err
}

// crossEntropy returns the softmax cross-entropy of one row of logits
// against label.
func crossEntropy(row []float32, label int) float64 {
	return interp.LogSumExp(row) - float64(row[label])
}

// sampleLoss turns a per-sample loss into the interpreter's batch loss for
// the cnt real samples of a chunk starting at sample first; the padding
// rows of a fixed batch get no gradient.
func sampleLoss(loss SampleLoss, first, cnt int) interp.LossFunc {
	return func(logits *interp.Tensor, labels []int) (float64, *interp.Tensor, error) {
		if logits == nil || logits.IsInt() || len(logits.Shape) == 0 || logits.Shape[0] == 0 {
			return 0, nil, fmt.Errorf("the loss needs float logits of shape N×K, got %v", logits)
		}
		b := logits.Shape[0]
		k := logits.Len() / b
		d := &interp.Tensor{Shape: append([]int(nil), logits.Shape...), Data: make([]float32, logits.Len())}
		var total float64
		for i := 0; i < min(cnt, b); i++ {
			total += loss(d.Data[i*k:(i+1)*k], logits.Data[i*k:(i+1)*k], labels[i], first+i)
		}
		return total, d, nil
	}
}
