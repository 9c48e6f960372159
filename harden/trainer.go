package harden

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// trainer is one run's state.
type trainer struct {
	cfg  Config
	prog Trainable
	// want is what the training passes ask Grad for (trainingWant): the
	// training mode, the weights' gradients and, for trades and mart, the
	// outer loss in place of the cross-entropy. Attacks and validation run
	// in inference.
	want       interp.Want
	pre        dataset.Preprocess
	train, val *Data
	model      *fgsm.Model
	atk        *fgsm.Attacker
	attack     fgsm.Config // the recipe's training attack
	fgsmEval   fgsm.Config
	probe      fgsm.Config // the adversarial recipes' PGD probe
	params     []interp.Param
	data       [][]float32 // params' values, updated in place
	opt        parted      // *SGDM or *AdamW, as Config.Optimizer says
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
	// (ModeMatters of the training mode): the FGSM step's pass over the
	// clean batch also yields the clean half's loss and parameter
	// gradients, and the update's pass runs on the adversarial half alone.
	// clean holds the clean half's gradients, by parameter, during a step.
	fuse  bool
	clean [][]float32

	// trades and mart: the adversarial batch and the clean probabilities.
	adv    []float32
	pClean []float64

	awpSaved [][]float32 // AWP: the weights before the perturbation
}

func newTrainer(prog Trainable, pre dataset.Preprocess, train, val *Data, cfg Config, progress func(Progress)) (*trainer, error) {
	if prog == nil {
		return nil, errors.New("no model to train")
	}
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	if err := checkDynamicBatch(prog.InputInfo(), cfg); err != nil {
		return nil, err
	}
	model, err := fgsm.NewModel(prog, pre)
	if err != nil {
		return nil, err
	}
	if train, val, err = trainingData(train, val, cfg, model); err != nil {
		return nil, err
	}
	atk, err := fgsm.NewAttacker(model, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if err := checkLabels(atk.Classes(), train, val); err != nil {
		return nil, err
	}
	t := &trainer{cfg: cfg, prog: prog, pre: pre, train: train, val: val, model: model, atk: atk, progress: progress}
	if err := t.setRecipe(); err != nil {
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
	t.want = trainingWant(cfg)
	t.fuse = cfg.Recipe == Paper && !modeMatters(prog, t.want.Mode)
	t.startSum = t.weightsDigest()
	t.dataSum = dataDigest(train, val)
	return t, nil
}

// trainingMode is the mode of cfg's training passes.
func trainingMode(cfg Config) interp.Mode {
	return interp.Mode{Training: true, FreezeBatchNorm: cfg.BN == BNFrozen}
}

// outerLoss is the loss cfg's training passes take in place of the
// cross-entropy: TRADES's or MART's, nil for the other recipes.
func outerLoss(cfg Config) interp.LossFunc {
	switch cfg.Recipe {
	case TRADES:
		return TRADESLoss(cfg.Beta)
	case MART:
		return MARTLoss(cfg.Beta)
	}
	return nil
}

// trainingWant is what cfg's training passes ask Grad for.
func trainingWant(cfg Config) interp.Want {
	return interp.Want{Mode: trainingMode(cfg), Params: true, Loss: outerLoss(cfg)}
}

// checkDynamicBatch refuses a model whose input fixes the batch size:
// training feeds batches of cfg.Batch (twice that for the paper recipe).
func checkDynamicBatch(in onnx.ValueInfo, cfg Config) error {
	s := in.Shape
	if len(s) == 0 || s[0] <= 0 {
		return nil
	}
	per := "batches of " + fmt.Sprint(cfg.Batch)
	if cfg.Recipe == Paper {
		per = fmt.Sprintf("batches of 2×%d (clean and adversarial)", cfg.Batch)
	}
	return fmt.Errorf("%w: input %q is %v; training feeds %s: export the model with a dynamic batch axis (in PyTorch, torch.onnx.export(..., dynamic_axes={%q: {0: \"N\"}}))",
		ErrFixedBatch, in.Name, s, per, in.Name)
}

// trainingData checks the data against the model and holds out the
// validation split when cfg asks for one.
func trainingData(train, val *Data, cfg Config, model *fgsm.Model) (*Data, *Data, error) {
	if err := train.check("training"); err != nil {
		return nil, nil, err
	}
	if cfg.ValSplit > 0 {
		if val != nil {
			return nil, nil, errors.New("both validation data and a val split given; use one")
		}
		var err error
		if train, val, err = train.Split(cfg.ValSplit); err != nil {
			return nil, nil, err
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
			return nil, nil, err
		}
		if d.d.C != model.C || d.d.H != model.H || d.d.W != model.W {
			return nil, nil, fmt.Errorf("the %s samples are %d×%d×%d but the model takes %d×%d×%d", d.what, d.d.C, d.d.H, d.d.W, model.C, model.H, model.W)
		}
	}
	if cfg.Recipe == FGSMRS && val == nil {
		return nil, nil, errors.New("recipe fgsm-rs needs validation data for its catastrophic-overfitting guard: give validation data or a val split")
	}
	return train, val, nil
}

// checkLabels checks that every label names one of the model's classes.
func checkLabels(classes int, sets ...*Data) error {
	for _, d := range sets {
		if d == nil {
			continue
		}
		for i, y := range d.Labels {
			if y < 0 || y >= classes {
				return fmt.Errorf("sample %d has label %d but the model scores %d classes", i, y, classes)
			}
		}
	}
	return nil
}

// setRecipe sets the recipe's training attack or outer loss, the FGSM
// evaluation and the PGD probe.
func (t *trainer) setRecipe() error {
	cfg := t.cfg
	var err error
	if cfg.Eps > 0 {
		if t.fgsmEval, err = (fgsm.Config{Method: fgsm.FGSM, Eps: cfg.Eps}).Normalize(); err != nil {
			return err
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
	}
	if err == nil && cfg.Recipe.Adversarial() && cfg.Probe == ProbePGD {
		t.probe, err = fgsm.Config{Method: fgsm.PGD, Eps: cfg.Eps, Steps: cfg.ProbeSteps, RandomStart: true}.Normalize()
	}
	return err
}

// modeMatters asks m whether a pass in mode computes other than inference
// does; a model that cannot say is taken to differ.
func modeMatters(m Trainable, mode interp.Mode) bool {
	if mm, ok := m.(interface{ ModeMatters(interp.Mode) bool }); ok {
		return mm.ModeMatters(mode)
	}
	return true
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
		writeFloat32s(h, p.T.Data)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
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
	m := t.current()
	for name, v := range m {
		m[name] = slices.Clone(v)
	}
	return m
}

// current maps every parameter's name to its values, not copied: for a
// checkpoint written before the next step.
func (t *trainer) current() map[string][]float32 {
	m := make(map[string][]float32, len(t.params))
	for i, p := range t.params {
		m[p.Name] = t.data[i]
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
