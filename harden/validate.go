package harden

import (
	"context"
	"fmt"

	"github.com/onnxguard/onnxguard/runtime"
)

// evalBatch is how many validation samples a measurement or a validation
// attacks and classifies at once: the training batch, at most 256. A
// gradient pass holds every activation of its batch, so a fixed 256 would
// hold 16 times what a training batch of 16 does, whatever the user chose
// --batch to fit in (ViT-B/16's FGSM pass: 3.1 GB at 16, 8.9 GB at 64,
// about 32 GB at 256); a training pass at the same batch holds more than
// an attack's, so what trains also measures.
func evalBatch(cfg Config) int {
	return min(256, max(cfg.Batch, 1))
}

// validate measures clean and FGSM accuracy on the validation data, and
// for the adversarial recipes the PGD probe's, in inference mode.
func (t *trainer) validate(ctx context.Context, epoch int) (Epoch, error) {
	rec := Epoch{Epoch: epoch}
	v := t.val
	if v == nil {
		return rec, nil
	}
	size := evalBatch(t.cfg)
	b := &valBatches{t: t, ctx: ctx, epoch: epoch, size: size, steps: (v.N + size - 1) / size}
	probeN := 0
	if t.cfg.Recipe.Adversarial() {
		probeN = min(t.cfg.ProbeSamples, v.N)
		rec.Probe = t.probeName(probeN)
		b.steps += (probeN + size - 1) / size
	}
	clean, adv, err := t.validateClean(b)
	if err != nil {
		return rec, err
	}
	robust, err := t.validateProbe(ctx, b, probeN)
	if err != nil {
		return rec, err
	}
	rec.ValClean, rec.ValFGSM = float64(clean)/float64(v.N), float64(adv)/float64(v.N)
	switch {
	case probeN > 0 && t.cfg.Probe == ProbeAPGD:
		rec.ValAPGD = float64(robust) / float64(probeN)
	case probeN > 0:
		rec.ValPGD = float64(robust) / float64(probeN)
	}
	return rec, nil
}

// valBatches walks the validation data in batches, reporting progress.
type valBatches struct {
	t           *trainer
	ctx         context.Context
	epoch       int
	size        int // samples per batch (evalBatch)
	step, steps int
}

// batch calls do on the validation batch starting at sample lo, of the
// first n samples.
func (b *valBatches) batch(lo, n int, do func(x []float32, y []int) error) error {
	t, v := b.t, b.t.val
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("validation after epoch %d interrupted: %w; %s", b.epoch, err, t.kept())
	}
	per := v.Per()
	hi := min(lo+b.size, n)
	if err := do(v.X[lo*per:hi*per], v.Labels[lo:hi]); err != nil {
		return fmt.Errorf("validation after epoch %d: %w", b.epoch, err)
	}
	b.step++
	if t.progress != nil {
		t.progress(Progress{Phase: "validate", Epoch: b.epoch, Epochs: t.cfg.Epochs, Step: b.step, Steps: b.steps})
	}
	return nil
}

// validateClean counts the validation samples classified correctly, clean
// and under FGSM at Config.Eps.
func (t *trainer) validateClean(b *valBatches) (clean, adv int, err error) {
	for lo := 0; lo < t.val.N; lo += b.size {
		err := b.batch(lo, t.val.N, func(x []float32, y []int) error {
			if t.cfg.Eps == 0 {
				var k int
				var err error
				if t.logits, k, err = t.model.Logits(t.logits, x, len(y)); err != nil {
					return err
				}
				clean += countCorrect(t.logits, y, k)
				return nil
			}
			// FGSM's gradient pass is at the clean images: its logits
			// classify them, without a forward pass of their own.
			o, err := t.atk.Attack(t.fgsmEval, x, y, len(y), lo)
			if err != nil {
				return err
			}
			clean += countCorrect(o.Clean, y, o.K)
			adv += countCorrect(o.Logits, y, o.K)
			return nil
		})
		if err != nil {
			return 0, 0, err
		}
	}
	return clean, adv, nil
}

// validateProbe counts the first n validation samples the probe does not
// break.
func (t *trainer) validateProbe(ctx context.Context, b *valBatches, n int) (robust int, err error) {
	// The probe's random starts are the same every epoch, so epochs
	// compare on equal terms.
	t.atk.Seed = t.cfg.Seed
	for lo := 0; lo < n; lo += b.size {
		err := b.batch(lo, n, func(x []float32, y []int) error {
			if t.cfg.Probe == ProbeAPGD {
				c, err := t.apgdRobust(ctx, x, y, lo)
				robust += c
				return err
			}
			o, err := t.atk.Attack(t.probe, x, y, len(y), lo)
			if err != nil {
				return err
			}
			robust += countCorrect(o.Logits, y, o.K)
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return robust, nil
}

func countCorrect(logits []float32, labels []int, k int) int {
	c := 0
	for i, y := range labels {
		if runtime.Argmax(logits[i*k:(i+1)*k]) == y {
			c++
		}
	}
	return c
}

// Catastrophic overfitting (Wong et al. 2020): within an epoch, FGSM
// training can learn to defeat FGSM alone; PGD accuracy then falls toward
// zero while FGSM accuracy stays high or rises. fgsm-rs stops when the
// probe's accuracy falls below collapseFraction of the best epoch's (once
// that is at least collapseFloor), or below collapseFloor while FGSM
// accuracy is at least collapseFGSM.
const (
	collapseFraction = 0.5
	collapseFloor    = 0.05
	collapseFGSM     = 0.5
)

// collapsed returns why the epoch shows catastrophic overfitting, or "".
func (t *trainer) collapsed(rec Epoch) string {
	if t.cfg.Recipe != FGSMRS || t.val == nil {
		return ""
	}
	best := t.history[t.bestEpoch]
	var why string
	switch {
	case t.robustAcc(best) >= collapseFloor && t.robustAcc(rec) < collapseFraction*t.robustAcc(best):
		why = fmt.Sprintf("the probe's accuracy fell to %.1f%% from %.1f%% at epoch %d", 100*t.robustAcc(rec), 100*t.robustAcc(best), t.bestEpoch)
	case t.robustAcc(rec) < collapseFloor && rec.ValFGSM >= collapseFGSM:
		why = fmt.Sprintf("the probe's accuracy is %.1f%% while FGSM accuracy is %.1f%%", 100*t.robustAcc(rec), 100*rec.ValFGSM)
	default:
		return ""
	}
	return fmt.Sprintf("robust accuracy collapsed in epoch %d, the sign of catastrophic overfitting: %s; stopped and restored epoch %d", rec.Epoch, why, t.bestEpoch)
}

// better reports whether rec beats the best epoch so far. Adversarial
// recipes rank by the PGD probe's accuracy, then clean accuracy: not by
// FGSM accuracy, which training on FGSM examples inflates (catastrophic
// overfitting; and label leaking, where the paper recipe's model learns
// to classify FGSM examples better than clean ones while PGD still breaks
// it). The clean recipe ranks by clean accuracy, then FGSM. Ties keep the
// earlier epoch. Without validation data the latest epoch wins.
func (t *trainer) better(rec Epoch) bool {
	if t.val == nil {
		return true
	}
	score := func(e Epoch) (float64, float64) {
		if t.cfg.Recipe == Clean {
			return e.ValClean, e.ValFGSM
		}
		return t.robustAcc(e), e.ValClean
	}
	a1, a2 := score(rec)
	b1, b2 := score(t.history[t.bestEpoch])
	return a1 > b1 || a1 == b1 && a2 > b2
}
