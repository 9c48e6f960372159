package harden

import (
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// trainStep is one step of the recipe on the clean batch x, y: it crafts
// the examples and takes one optimizer step on them, returning the loss,
// the number classified correctly before the update, and the number of
// examples trained on (2·len(y) for the paper recipe). It is the whole of
// a step as runEpoch takes it, which the training-step benchmark times.
func (t *trainer) trainStep(x []float32, y []int, seed uint64, lr float64) (loss float64, correct, n int, err error) {
	if t.fuse {
		return t.fusedStep(x, y, seed, lr)
	}
	if t.cfg.Recipe.surrogate() {
		return t.surrogateStep(x, y, seed, lr)
	}
	xs, ys, err := t.examples(x, y, seed)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("crafting the training examples: %w", err)
	}
	loss, correct, err = t.step(xs, ys, seed, lr, nil)
	return loss, correct, len(ys), err
}

// fusedStep is the paper recipe's step where the mode does not matter.
// The batch of 2B, clean and adversarial, has mean loss ½(L_clean +
// L_adv), whose gradient is half the sum of the halves'. The FGSM step
// runs the forward and backward passes of L_clean, in inference mode,
// which here computes what training mode would; asking that one pass for
// the parameters' gradients as well as the input's leaves only the
// adversarial half to run. The update is the one the 2B batch gives, up
// to the order of float sums, for a quarter less work (TestFusedStep);
// the examples are Attacker.Craft's (fgsm.Step on the same gradient).
func (t *trainer) fusedStep(x []float32, y []int, seed uint64, lr float64) (loss float64, correct, n int, err error) {
	m, b := t.model, len(y)
	t.in = t.pre.Apply(t.in, x, m.C, m.H*m.W)
	r, err := t.prog.Grad(&interp.Tensor{Shape: t.pre.Layout.Shape(b, m.C, m.H, m.W), Data: t.in}, y, interp.Want{Input: true, Params: true})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("crafting the training examples: %w", err)
	}
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		got := r.Loss
		r.Release()
		return 0, 0, 0, fmt.Errorf("%w: the loss is %v; %s; lower the learning rate", ErrDiverged, got, t.kept())
	}
	cleanLoss, cleanCorrect := r.Loss, countCorrect(r.Logits.Data, y, r.Logits.Len()/b)
	// One FGSM step in pixel space: the gradient through the
	// preprocessing, then Step, as the attacker takes it.
	t.grad = t.pre.Backward(t.grad, r.Input.Data, m.C, m.H*m.W)
	t.xs = append(t.xs[:0], x...)
	pixelStep(t.xs, x, t.grad, float32(t.attack.Alpha), float32(t.attack.Eps))
	// The clean half's gradients stay in r's storage, which no later pass
	// writes until r is released, for the update to average with the
	// adversarial half's.
	if len(t.clean) != len(t.params) {
		t.clean = make([][]float32, len(t.params))
	}
	for i, g := range r.Params {
		t.clean[i] = nil
		if g != nil {
			t.clean[i] = g.Data
		}
	}
	adv, correct, err := t.step(t.xs, y, seed, lr, t.clean)
	clear(t.clean)
	r.Release()
	if err != nil {
		return 0, 0, 0, err
	}
	return (cleanLoss + adv) / 2, cleanCorrect + correct, 2 * b, nil
}

// examples returns what one step trains on, crafted from the clean batch
// with the model in inference mode.
func (t *trainer) examples(x []float32, y []int, seed uint64) ([]float32, []int, error) {
	n := len(y)
	switch t.cfg.Recipe {
	case Clean:
		return x, y, nil
	case Paper:
		o, err := t.atk.Craft(t.attack, x, y, n, 0)
		if err != nil {
			return nil, nil, err
		}
		t.xs = append(append(t.xs[:0], x...), o.Adv...)
		t.ys = append(append(t.ys[:0], y...), y...)
		return t.xs, t.ys, nil
	}
	t.atk.Seed = seed
	o, err := t.atk.Craft(t.attack, x, y, n, 0)
	if err != nil {
		return nil, nil, err
	}
	t.xs = append(t.xs[:0], o.Adv...)
	return t.xs, y, nil
}

// step runs one forward and backward pass in training mode on pixels xs
// and updates the weights, returning the loss and the number of examples
// the model classified correctly before the update. Where half is not
// nil, each parameter's gradient is averaged with half's before the
// update (trainer.update).
func (t *trainer) step(xs []float32, ys []int, seed uint64, lr float64, half [][]float32) (float64, int, error) {
	m := t.model
	n := len(ys)
	t.in = t.pre.Apply(t.in, xs, m.C, m.H*m.W)
	in := &interp.Tensor{Shape: t.pre.Layout.Shape(n, m.C, m.H, m.W), Data: t.in}
	r, err := t.trainingPass(in, ys, seed)
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		got := r.Loss
		r.Release()
		return 0, 0, fmt.Errorf("%w: the loss is %v; %s; lower the learning rate", ErrDiverged, got, t.kept())
	}
	if len(t.grads) != len(t.params) {
		t.grads = make([][]float32, len(t.params))
	}
	grads := t.grads
	clear(grads)
	for i, g := range r.Params {
		if g != nil {
			grads[i] = g.Data
		}
	}
	bad, at := t.update(grads, half, lr)
	loss, correct := r.Loss, countCorrect(r.Logits.Data, ys, r.Logits.Len()/r.Logits.Shape[0])
	// The gradients' storage, back to the engine for the next pass (the
	// gradient graph's outputs: 100 MB a pass on ResNet-50).
	clear(grads)
	r.Release()
	// The optimizer changed the weights with gradients, training-mode
	// BatchNorm the running statistics: update checked them all.
	if bad >= 0 {
		return 0, 0, fmt.Errorf("%w: %s became %v; %s; lower the learning rate", ErrDiverged, t.params[bad].Name, t.data[bad][at], t.kept())
	}
	return loss, correct, nil
}

// trainingPass runs the forward and backward pass of a training step on
// in, in training mode and, when AWP is active, at the perturbed weights,
// which it puts back before returning.
func (t *trainer) trainingPass(in *interp.Tensor, ys []int, seed uint64) (*interp.Result, error) {
	if t.awpActive() {
		if err := t.awpPerturb(in, ys, seed); err != nil {
			return nil, err
		}
		defer t.awpRestore()
	}
	t.prog.Reseed(seed)
	return t.prog.Grad(in, ys, t.want)
}

// pixelStep is fgsm.Step up the loss on a whole batch, its pixels cut
// into chunks that run at once: a step is pixel by pixel, so the result
// is the same bits however the batch is cut.
func pixelStep(adv, x, grad []float32, alpha, eps float32) {
	forChunks(len(adv), func(lo, hi int) {
		fgsm.Step(adv[lo:hi], x[lo:hi], grad[lo:hi], 1, alpha, eps)
	})
}
