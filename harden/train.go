package harden

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
func Train(ctx context.Context, prog *interp.Program, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress)) (*Result, error) {
	return run(ctx, prog, pre, train, val, cfg, progress, false)
}

// Resume continues the run whose checkpoint is in cfg.CheckpointDir and
// gives the weights an uninterrupted Train would have given. prog must be
// compiled afresh from the same model, and pre, the data and cfg (but for
// CheckpointDir and StopAfter) must be those of the first call; Resume
// refuses anything else. A run that had already ended returns its result.
func Resume(ctx context.Context, prog *interp.Program, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress)) (*Result, error) {
	return run(ctx, prog, pre, train, val, cfg, progress, true)
}

func run(ctx context.Context, prog *interp.Program, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress), resume bool) (*Result, error) {
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

// trainer is one run's state.
type trainer struct {
	cfg        Config
	prog       *interp.Program
	mode       interp.Mode // of the training passes; attacks and validation run in inference
	pre        dataset.Preprocess
	train, val *Data
	model      *fgsm.Model
	atk        *fgsm.Attacker
	attack     fgsm.Config // the recipe's training attack
	fgsmEval   fgsm.Config
	probe      fgsm.Config // the adversarial recipes' PGD probe
	params     []interp.Param
	data       [][]float32 // params' values, updated in place
	opt        Optimizer   // *SGDM or *AdamW, as Config.Optimizer says
	progress   func(Progress)
	startSum   string
	dataSum    string

	epoch     int // epochs completed
	best      map[string][]float32
	bestEpoch int
	history   []Epoch
	stopped   string

	x, xs, in, logits, grad []float32
	y, ys                   []int
	grads                   [][]float32 // a step's gradients, by parameter

	// fuse: the paper recipe on a model whose mode matters not
	// (Program.ModeMatters of the training mode): the FGSM step's pass over the clean batch
	// also yields the clean half's loss and parameter gradients, and the
	// update's pass runs on the adversarial half alone. cleanGrads keeps
	// the clean half's gradients, by parameter, from one step to the next.
	fuse       bool
	cleanGrads [][]float32

	// trades and mart: the outer loss every training pass uses in place
	// of the cross-entropy (nil for the other recipes), the adversarial
	// batch and the clean probabilities.
	outer  interp.LossFunc
	adv    []float32
	pClean []float64

	awpSaved [][]float32 // AWP: the weights before the perturbation
}

func newTrainer(prog *interp.Program, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress)) (*trainer, error) {
	if prog == nil {
		return nil, errors.New("no model to train")
	}
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	if s := prog.Input.Shape; len(s) > 0 && s[0] > 0 {
		per := "batches of " + fmt.Sprint(cfg.Batch)
		if cfg.Recipe == Paper {
			per = fmt.Sprintf("batches of 2×%d (clean and adversarial)", cfg.Batch)
		}
		return nil, fmt.Errorf("%w: input %q is %v; training feeds %s: export the model with a dynamic batch axis (in PyTorch, torch.onnx.export(..., dynamic_axes={%q: {0: \"N\"}}))",
			ErrFixedBatch, prog.Input.Name, s, per, prog.Input.Name)
	}
	model, err := fgsm.NewModel(prog, pre)
	if err != nil {
		return nil, err
	}
	if err := train.check("training"); err != nil {
		return nil, err
	}
	if cfg.ValSplit > 0 {
		if val != nil {
			return nil, errors.New("both validation data and a val split given; use one")
		}
		if train, val, err = train.Split(cfg.ValSplit); err != nil {
			return nil, err
		}
	}
	for _, d := range []struct {
		what string
		d    *Data
	}{{"training", train}, {"validation", val}} {
		if d.d == nil {
			continue
		}
		if err := d.d.check(d.what); err != nil {
			return nil, err
		}
		if d.d.C != model.C || d.d.H != model.H || d.d.W != model.W {
			return nil, fmt.Errorf("the %s samples are %d×%d×%d but the model takes %d×%d×%d", d.what, d.d.C, d.d.H, d.d.W, model.C, model.H, model.W)
		}
	}
	if cfg.Recipe == FGSMRS && val == nil {
		return nil, errors.New("recipe fgsm-rs needs validation data for its catastrophic-overfitting guard: give validation data or a val split")
	}
	atk, err := fgsm.NewAttacker(model, cfg.Seed)
	if err != nil {
		return nil, err
	}
	for _, d := range []*Data{train, val} {
		if d == nil {
			continue
		}
		for i, y := range d.Labels {
			if y < 0 || y >= atk.Classes() {
				return nil, fmt.Errorf("sample %d has label %d but the model scores %d classes", i, y, atk.Classes())
			}
		}
	}
	t := &trainer{cfg: cfg, prog: prog, pre: pre, train: train, val: val, model: model, atk: atk, progress: progress}
	if cfg.Eps > 0 {
		if t.fgsmEval, err = (fgsm.Config{Method: fgsm.FGSM, Eps: cfg.Eps}).Normalize(); err != nil {
			return nil, err
		}
	}
	switch cfg.Recipe {
	case Paper:
		t.attack = t.fgsmEval
	case FGSMRS:
		// Wong et al. 2020: a uniform start in the ε-ball, one step of
		// 1.25·ε, projected back: BIM with one step.
		t.attack, err = fgsm.Config{Method: fgsm.BIM, Eps: cfg.Eps, Steps: 1, Alpha: 1.25 * cfg.Eps, RandomStart: true}.Normalize()
	case PGD:
		t.attack, err = fgsm.Config{Method: fgsm.PGD, Eps: cfg.Eps, Steps: cfg.PGDSteps, RandomStart: true}.Normalize()
	case TRADES:
		t.outer = TRADESLoss(cfg.Beta)
	case MART:
		t.outer = MARTLoss(cfg.Beta)
	}
	if err == nil && cfg.Recipe.Adversarial() && cfg.Probe == ProbePGD {
		t.probe, err = fgsm.Config{Method: fgsm.PGD, Eps: cfg.Eps, Steps: cfg.ProbeSteps, RandomStart: true}.Normalize()
	}
	if err != nil {
		return nil, err
	}
	t.params = prog.Params()
	t.data = make([][]float32, len(t.params))
	for i, p := range t.params {
		t.data[i] = p.T.Data
	}
	if cfg.Optimizer == SGD {
		t.opt = &SGDM{Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay}
	} else {
		t.opt = NewAdamW(cfg.WeightDecay)
	}
	t.mode = interp.Mode{Training: true, FreezeBatchNorm: cfg.BN == BNFrozen}
	t.fuse = cfg.Recipe == Paper && !prog.ModeMatters(t.mode)
	t.startSum = t.weightsDigest()
	t.dataSum = dataDigest(train, val)
	return t, nil
}

// weightsDigest hashes the parameters' names, shapes and values.
func (t *trainer) weightsDigest() string {
	h := sha256.New()
	var buf [8]byte
	for _, p := range t.params {
		h.Write([]byte(p.Name))
		h.Write([]byte{0})
		for _, d := range p.T.Shape {
			binary.LittleEndian.PutUint64(buf[:], uint64(d))
			h.Write(buf[:])
		}
		h.Write(float32Bytes(p.T.Data))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
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
		return 0, 0, 0, fmt.Errorf("%w: the loss is %v; %s; lower the learning rate", ErrDiverged, r.Loss, t.kept())
	}
	// The clean half, kept before the adversarial pass reuses r's storage.
	if len(t.cleanGrads) != len(t.params) {
		t.cleanGrads = make([][]float32, len(t.params))
	}
	for i, g := range r.Params {
		t.cleanGrads[i] = t.cleanGrads[i][:0]
		if g != nil {
			t.cleanGrads[i] = append(t.cleanGrads[i], g.Data...)
		}
	}
	cleanLoss, cleanCorrect := r.Loss, countCorrect(r.Logits.Data, y, r.Logits.Len()/b)
	// One FGSM step in pixel space: the gradient through the
	// preprocessing, then Step, as the attacker takes it.
	t.grad = t.pre.Backward(t.grad, r.Input.Data, m.C, m.H*m.W)
	t.prog.Release(r)
	t.xs = append(t.xs[:0], x...)
	fgsm.Step(t.xs, x, t.grad, 1, float32(t.attack.Alpha), float32(t.attack.Eps))
	adv, correct, err := t.step(t.xs, y, seed, lr, func(i int, g []float32) {
		for j, v := range t.cleanGrads[i] {
			g[j] = (g[j] + v) / 2
		}
	})
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
// the model classified correctly before the update. combine, when not
// nil, rewrites each parameter's gradient before the update.
func (t *trainer) step(xs []float32, ys []int, seed uint64, lr float64, combine func(i int, g []float32)) (float64, int, error) {
	m := t.model
	n := len(ys)
	t.in = t.pre.Apply(t.in, xs, m.C, m.H*m.W)
	in := &interp.Tensor{Shape: t.pre.Layout.Shape(n, m.C, m.H, m.W), Data: t.in}
	r, err := t.trainingPass(in, ys, seed)
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		return 0, 0, fmt.Errorf("%w: the loss is %v; %s; lower the learning rate", ErrDiverged, r.Loss, t.kept())
	}
	if len(t.grads) != len(t.params) {
		t.grads = make([][]float32, len(t.params))
	}
	grads := t.grads
	clear(grads)
	for i, g := range r.Params {
		if g != nil {
			grads[i] = g.Data
			if combine != nil {
				combine(i, g.Data)
			}
		}
	}
	t.opt.Step(t.data, grads, lr)
	// The optimizer changed the weights with gradients, training-mode
	// BatchNorm the running statistics: check them all.
	for i, d := range t.data {
		for _, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return 0, 0, fmt.Errorf("%w: %s became %v; %s; lower the learning rate", ErrDiverged, t.params[i].Name, v, t.kept())
			}
		}
	}
	return r.Loss, countCorrect(r.Logits.Data, ys, r.Logits.Len()/r.Logits.Shape[0]), nil
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
	return t.prog.Grad(in, ys, interp.Want{Mode: t.mode, Params: true, Loss: t.outer})
}

// kept says where the last good state is, for error messages.
func (t *trainer) kept() string {
	if t.cfg.CheckpointDir == "" {
		return "no checkpoint folder was set, so nothing was kept"
	}
	return fmt.Sprintf("the last good checkpoint (after epoch %d) is kept in %s", t.epoch, t.cfg.CheckpointDir)
}

// snapshot copies every parameter's values.
func (t *trainer) snapshot() map[string][]float32 {
	m := make(map[string][]float32, len(t.params))
	for i, p := range t.params {
		m[p.Name] = append([]float32(nil), t.data[i]...)
	}
	return m
}

// load copies values into the parameters.
func (t *trainer) load(w map[string][]float32) error {
	for i, p := range t.params {
		v, ok := w[p.Name]
		if !ok || len(v) != len(t.data[i]) {
			return fmt.Errorf("weights for %s: %d values, the model has %d", p.Name, len(v), len(t.data[i]))
		}
		copy(t.data[i], v)
	}
	return nil
}

// result loads the best weights into the program and reports the run.
func (t *trainer) result(reason string) (*Result, error) {
	if err := t.load(t.best); err != nil {
		return nil, err
	}
	return &Result{Weights: t.best, BestEpoch: t.bestEpoch, Epochs: t.epoch,
		History: append([]Epoch(nil), t.history...), Early: reason != "", Reason: reason}, nil
}
