package harden

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// ErrDiverged marks a run stopped because the loss or a weight became NaN
// or infinite.
var ErrDiverged = errors.New("training diverged")

// ErrFixedBatch marks a model whose input declares a fixed batch size,
// which training cannot feed.
var ErrFixedBatch = errors.New("the model's input has a fixed batch size")

// Epoch is one line of the history. Accuracies are fractions in [0,1].
type Epoch struct {
	Epoch     int     `json:"epoch"` // 1-based; 0 is the starting model, measured before training
	LR        float64 `json:"lr"`
	TrainLoss float64 `json:"train_loss"` // mean loss over the examples trained on
	TrainAcc  float64 `json:"train_acc"`  // accuracy on them, in training mode, before each step's update
	ValClean  float64 `json:"val_clean_acc"`
	ValFGSM   float64 `json:"val_fgsm_acc"` // FGSM at Config.Eps
	// ValPGD is the accuracy under the PGD probe that Probe names (the
	// adversarial recipes; 0 for clean, where Probe is empty).
	ValPGD float64 `json:"val_pgd_acc"`
	// ValAPGD is the accuracy under the apgd probe (APGD-CE, then APGD-T),
	// when Config.Probe is apgd; ValPGD is then 0.
	ValAPGD       float64 `json:"val_apgd_acc,omitempty"`
	Probe         string  `json:"probe,omitempty"`
	Seconds       float64 `json:"seconds"`         // training and validation
	SamplesPerSec float64 `json:"samples_per_sec"` // training samples (clean, before any attack) per second of training
	Note          string  `json:"note,omitempty"`
}

// Progress is reported after every training step and validation batch.
type Progress struct {
	Phase         string // "train" or "validate"
	Epoch, Epochs int    // Epoch is 1-based
	Step, Steps   int    // 1-based
	Loss          float64
	Accuracy      float64 // the epoch's training accuracy so far
	// Robust is the probe's accuracy after the last epoch validated (the
	// starting model's in epoch 1), -1 where there is none.
	Robust        float64
	SamplesPerSec float64
}

// Result is what a run produced.
type Result struct {
	// Weights holds every floating-point initializer of the best epoch,
	// BatchNorm running statistics included, by initializer name.
	Weights   map[string][]float32
	BestEpoch int // 0 when no epoch beat the starting model
	Epochs    int // epochs completed
	History   []Epoch
	Early     bool   // the run ended before Config.Epochs
	Reason    string // why, when Early
}

// Trainable is a model that training fine-tunes: the attacks' Gradients
// (training passes ask Grad for parameter gradients, in a training Mode),
// and weights the optimizer updates in place between passes. The
// interpreter's *interp.Program implements it. A Trainable that also has
// ModeMatters(interp.Mode) bool lets the paper recipe fuse its passes where
// the mode does not matter; one without is taken to compute differently in
// training mode.
type Trainable interface {
	fgsm.Gradients
	// Params returns the floating-point weights, running statistics
	// included, aligned with interp.Result.Params; training writes new
	// values into their T.Data.
	Params() []interp.Param
	// Reseed restarts the generator that training-mode Dropout masks are
	// drawn from, so that a step's masks follow from its position alone.
	Reseed(seed uint64)
}

var _ Trainable = (*interp.Program)(nil)

// Train fine-tunes (or, with the clean recipe on a freshly initialised
// model, trains) prog on train, validating after every epoch on val, or on
// the Config.ValSplit fraction of train held out, or on nothing when
// neither is given (the last epoch is then the best). pre is the model's
// preprocessing: data and attacks stay in pixel space [0,1].
//
// The weights are updated in place in prog; when Train returns without
// error prog holds the best epoch's weights, which Result.Weights also
// holds. With Config.CheckpointDir set, the folder must hold no
// checkpoint yet; one is written after the starting model's validation
// and after every epoch. progress, when not nil, is called after every step.
func Train(ctx context.Context, prog Trainable, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress)) (*Result, error) {
	return run(ctx, prog, pre, train, val, cfg, progress, false)
}

// Resume continues the run whose checkpoint is in cfg.CheckpointDir and
// gives the weights an uninterrupted Train would have given. prog must be
// made afresh from the same model (compiled again, for the interpreter), and pre, the data and cfg (but for
// CheckpointDir and StopAfter) must be those of the first call; Resume
// refuses anything else. A run that had already ended returns its result.
func Resume(ctx context.Context, prog Trainable, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress)) (*Result, error) {
	return run(ctx, prog, pre, train, val, cfg, progress, true)
}

func run(ctx context.Context, prog Trainable, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress), resume bool) (*Result, error) {
	t, err := newTrainer(prog, pre, train, val, cfg, progress)
	if err != nil {
		return nil, err
	}
	dir := t.cfg.CheckpointDir
	if resume {
		if dir == "" {
			return nil, errors.New("resume: no checkpoint folder given; set CheckpointDir to the folder of the interrupted run")
		}
		ck, err := LoadCheckpoint(dir)
		if err != nil {
			return nil, err
		}
		if err := t.restore(ck); err != nil {
			return nil, fmt.Errorf("resume from %s: %w", dir, err)
		}
	} else {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("checkpoint folder: %w", err)
			}
			if has, err := hasCheckpoint(dir); err != nil || has {
				if err == nil {
					err = fmt.Errorf("checkpoint folder %s already holds a run's checkpoint; resume it, or choose an empty folder", dir)
				}
				return nil, err
			}
		}
		if err := t.begin(ctx); err != nil {
			return nil, err
		}
		if err := t.save(); err != nil {
			return nil, err
		}
	}
	for t.epoch < t.cfg.Epochs && t.stopped == "" {
		if t.cfg.StopAfter > 0 && t.epoch >= t.cfg.StopAfter {
			return t.result(fmt.Sprintf("stopped after epoch %d of %d as asked; Resume continues from the checkpoint", t.epoch, t.cfg.Epochs))
		}
		if err := t.runEpoch(ctx); err != nil {
			return nil, err
		}
		if err := t.save(); err != nil {
			return nil, err
		}
	}
	return t.result(t.stopped)
}

// begin measures the starting model, which is the best until an epoch
// beats it.
func (t *trainer) begin(ctx context.Context) error {
	start := time.Now()
	rec, err := t.validate(ctx, 0)
	if err != nil {
		return err
	}
	rec.Seconds = time.Since(start).Seconds()
	t.history = []Epoch{rec}
	t.best, t.bestEpoch = t.snapshot(), 0
	return nil
}

// runEpoch trains one epoch, validates, and keeps the weights when they
// are the best so far.
func (t *trainer) runEpoch(ctx context.Context) error {
	e, cfg := t.epoch, t.cfg
	lr := cfg.LRAt(e)
	order := epochOrder(t.train.N, cfg.Seed, e)
	steps := (t.train.N + cfg.Batch - 1) / cfg.Batch
	start := time.Now()
	var lossSum float64
	correct, seen := 0, 0
	for s := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("epoch %d interrupted at step %d of %d: %w; %s", e+1, s+1, steps, err, t.kept())
		}
		idx := order[s*cfg.Batch : min((s+1)*cfg.Batch, t.train.N)]
		t.x, t.y = t.train.gather(t.x[:0], t.y[:0], idx)
		loss, c, n, err := t.trainStep(t.x, t.y, stepSeed(cfg.Seed, e, s), lr)
		if err != nil {
			return fmt.Errorf("epoch %d, step %d of %d (lr %g): %w", e+1, s+1, steps, lr, err)
		}
		lossSum += loss * float64(n)
		correct += c
		seen += n
		if t.progress != nil {
			done := min((s+1)*cfg.Batch, t.train.N)
			t.progress(Progress{Phase: "train", Epoch: e + 1, Epochs: cfg.Epochs, Step: s + 1, Steps: steps,
				Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen),
				SamplesPerSec: float64(done) / time.Since(start).Seconds(), Robust: t.lastRobust()})
		}
	}
	trainSecs := time.Since(start).Seconds()
	rec, err := t.validate(ctx, e+1)
	if err != nil {
		return err
	}
	rec.LR, rec.TrainLoss, rec.TrainAcc = lr, lossSum/float64(seen), float64(correct)/float64(seen)
	rec.Seconds, rec.SamplesPerSec = time.Since(start).Seconds(), float64(t.train.N)/trainSecs
	t.epoch++
	if reason := t.collapsed(rec); reason != "" {
		rec.Note = "robust accuracy collapsed"
		t.history = append(t.history, rec)
		t.stopped = reason
		return nil
	}
	t.history = append(t.history, rec)
	if t.better(rec) {
		t.best, t.bestEpoch = t.snapshot(), rec.Epoch
	}
	if why := t.overfitted(); why != "" {
		t.history[len(t.history)-1].Note = "robust overfitting"
		t.stopped = why
	}
	return nil
}
