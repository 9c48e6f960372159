package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

var hardenCommand = &cli.Command{
	Name:  "harden",
	Usage: "fine-tune a model with adversarial training and export it to ONNX",
	Description: `Trains the model's weights on adversarial examples made from the current
weights at every step, with gradients from --grad-engine (auto: ONNX Runtime's
gradient graph, fed the weights as they change, where it is the faster engine
and the model has no training-mode BatchNorm or Dropout; the interpreter
otherwise), and writes the best epoch back into the
same ONNX graph (--out). Recipes: paper (the seed paper's Algorithm 2: every
minibatch concatenated with its FGSM examples), fgsm-rs (FGSM from a random
start, step 1.25·ε, with a probe after every epoch that stops the run and
restores the best epoch if robust accuracy collapses), pgd (Madry et al.: K-step
PGD examples), trades (Zhang et al. 2019: CE on x + β·KL(p(x) ‖ p(x_adv)), x_adv
maximising the KL in K steps of ε/4), mart (Wang et al. 2020: boosted CE on x_adv
+ β·KL·(1 − p_y(x))) and clean (no attack; trains from scratch too). --awp adds
adversarial weight perturbation (Wu et al. 2020) to pgd or trades.

Validation data (--val, or the --val-split fraction held out of --data) is
measured after every epoch; the best epoch (by the accuracy under --probe on up
to 512 validation samples: apgd, APGD-CE then APGD-T, a fast AutoAttack subset,
or pgd; by clean accuracy for clean) is exported; --patience N stops after N
epochs below the best (robust overfitting). FGSM accuracy is not the measure:
training on FGSM examples inflates it. Before and after, clean, FGSM, PGD and
AutoAttack (--autoattack; none skips it) accuracy at ε are measured on the validation data with ONNX Runtime on the
original and on the exported file; the export is checked against the
interpreter (relative difference at most 1e-4) before success is reported.
Validation and the measurements attack --batch samples at a time (at most 256),
so the batch that fits in memory for training bounds them too.
--report DIR writes those measurements as audit reports (DIR/before, DIR/after)
and their comparison with the export check (DIR/report.html, report.md,
comparison.json), as 'onnxguard report compare' would.

A checkpoint is written after every epoch into --checkpoint-dir (default
OUT.checkpoints); --resume continues a killed run from it with the same result.

Examples:
   onnxguard harden -m testdata/models/fmnist_cnn.onnx -d /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \
       --val /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --recipe paper --eps 0.1 --epochs 1 --out hardened.onnx \
       --report hardening/ --class-names testdata/fashion/classes.txt
   onnxguard harden -m model.onnx -d cifar-10-batches-bin --recipe fgsm-rs --eps 0.031 --epochs 10 --schedule cosine --out robust.onnx
   onnxguard harden -m model.onnx -d train.npy -l labels.npy --recipe pgd --eps 0.1 --out robust.onnx --resume`,
	Flags: concat(modelFlags, dataFlags, engineFlags, gradFlags, []cli.Flag{
		&cli.StringFlag{Name: "val", Usage: "validation images (same formats as --data); default: --val-split of --data"},
		&cli.StringFlag{Name: "val-labels", Usage: "labels of --val when they are not found beside it"},
		&cli.IntFlag{Name: "val-limit", Usage: "use at most `N` validation samples (0 = all)"},
		&cli.Float64Flag{Name: "val-split", Value: 0.1, Usage: "fraction of --data held out for validation when --val is not given"},
		&cli.StringFlag{Name: "recipe", Value: "paper", Usage: "paper, fgsm-rs, pgd, trades, mart or clean"},
		&cli.Float64Flag{Name: "eps", Value: 0.1, Usage: "L∞ budget in pixel space [0,1] trained against and measured"},
		&cli.IntFlag{Name: "epochs", Value: harden.DefaultEpochs, Usage: "passes over the training data"},
		&cli.StringFlag{Name: "optimizer", Value: harden.Adam, Usage: "adam (AdamW) or sgd (with momentum)"},
		&cli.Float64Flag{Name: "lr", Usage: "learning rate", DefaultText: "1e-3 for adam, 0.01 for sgd"},
		&cli.Float64Flag{Name: "momentum", Usage: "sgd momentum", DefaultText: "0.9"},
		&cli.Float64Flag{Name: "weight-decay", Usage: "weight decay (decoupled for adam, L2 for sgd)"},
		&cli.StringFlag{Name: "schedule", Value: harden.Constant, Usage: "learning-rate schedule: constant, step or cosine"},
		&cli.StringFlag{Name: "bn", Value: harden.BNTrain, Usage: "BatchNormalization while training: train (batch statistics, running statistics updated) or frozen"},
		&cli.IntFlag{Name: "pgd-steps", Usage: "pgd, trades, mart: attack steps per example", DefaultText: "7 for pgd, 10 for trades and mart"},
		&cli.Float64Flag{Name: "beta", Usage: "trades, mart: β, the weight of the KL term", DefaultText: "6"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of shuffling, Dropout and random starts"},
		&cli.StringFlag{Name: "checkpoint-dir", Usage: "checkpoints and history.json after every epoch (default OUT.checkpoints)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue the run whose checkpoint is in --checkpoint-dir"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "hardened ONNX `FILE` (required)"},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object to stdout"},
		hardenReportFlag,
		classNamesFlag,
	}, hardenAAFlags),
	Before: requireFlags("model", "data", "out"),
	Action: runHarden,
}

// hardenConfig reads the training flags into a harden.Config, each
// checked where it is read; zero values left are the library's defaults.
func hardenConfig(c *cli.Context, recipe harden.Recipe, batch int) (harden.Config, error) {
	hc := harden.Config{Recipe: recipe, Batch: batch, Optimizer: c.String("optimizer"), Schedule: c.String("schedule"),
		BN: c.String("bn"), Seed: c.Uint64("seed"), CheckpointDir: c.String("checkpoint-dir")}
	var err error
	for _, f := range []struct {
		name string
		dst  *float64
		s    span
		set  bool // the flag has no default of its own: 0 is the library's
	}{
		{"eps", &hc.Eps, unit, false},
		{"lr", &hc.LR, positive, true},
		{"momentum", &hc.Momentum, positive, true},
		{"weight-decay", &hc.WeightDecay, nonNegative, true},
		{"beta", &hc.Beta, positive, true},
	} {
		if f.set {
			*f.dst, err = setFloatFlag(c, f.name, f.s)
		} else {
			*f.dst, err = floatFlag(c, f.name, f.s)
		}
		if err != nil {
			return hc, err
		}
	}
	if hc.Epochs, err = intFlag(c, "epochs", 1); err != nil {
		return hc, err
	}
	if hc.PGDSteps, err = setIntFlag(c, "pgd-steps", 1); err != nil {
		return hc, err
	}
	if _, err = intFlag(c, "val-limit", 0); err != nil {
		return hc, err
	}
	return hc, probeConfig(c, &hc)
}

// robustness is clean, FGSM and PGD accuracy on the validation data.
type robustness struct {
	Runtime    string  `json:"runtime"`
	GradEngine string  `json:"grad_engine"` // what computed the attacks' gradients
	Clean      float64 `json:"clean_accuracy"`
	FGSM       float64 `json:"fgsm_accuracy"`
	PGD        float64 `json:"pgd_accuracy"`
	// AutoAttack is --autoattack's result, nil when skipped.
	AutoAttack *aaRobustness `json:"autoattack,omitempty"`
}

func robustnessOf(m harden.Measurement) robustness {
	return robustness{Runtime: m.Runtime, GradEngine: m.GradEngine, Clean: m.Clean, FGSM: m.FGSM, PGD: m.PGD, AutoAttack: aaOf(m.Audit)}
}

// hardenRun is what harden's flags become.
type hardenRun struct {
	cfg      *runConfig
	rc       harden.RunConfig
	val      string // --val, "" for a held-out split
	valSplit float64
}

func runHarden(c *cli.Context) error {
	hr, err := readHardenRun(c)
	if err != nil {
		return err
	}
	hc, train, val := hr.rc.Training, hr.rc.Train, hr.rc.Val
	fmt.Fprintf(c.App.ErrWriter, "training on %d samples, validating on %d: recipe %s, ε=%g, %d epochs of batch %d, %s lr %g\n",
		train.N, val.N, hc.Recipe, hc.Eps, hc.Epochs, hc.Batch, hc.Optimizer, hc.LR)
	update, finishBar := progressNote("harden")
	finish := sync.OnceFunc(finishBar)
	if update != nil {
		hr.rc.Progress = func(p harden.Progress) {
			if p.Phase == "train" {
				// Steps take hc.Batch clean samples each, the last of an
				// epoch what is left.
				done := (p.Epoch-1)*train.N + min(p.Step*hc.Batch, train.N)
				update(done, p.Epochs*train.N, fmt.Sprintf("epoch %d/%d loss %.4f acc %.2f%%%s", p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, robustNote(p)))
			}
		}
	}
	hr.rc.Trained = func(res *harden.Result) {
		finish()
		printHistory(c.App.ErrWriter, res)
	}
	rep, err := harden.Run(c.Context, &hr.rc)
	finish()
	if err != nil {
		return err
	}
	if dir := c.String("report"); dir != "" {
		if err := writeHardenReport(hr, dir, rep); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintf(c.App.ErrWriter, "wrote the before/after comparison to %s\n", dir)
	}
	return printHarden(c, hr, rep)
}

// printHarden writes what harden did: one JSON object with --json, else
// the before/after table.
func printHarden(c *cli.Context, hr *hardenRun, rep *harden.Report) error {
	before, after := robustnessOf(rep.Before), robustnessOf(rep.After)
	out := hr.rc.Out
	if hr.cfg.json {
		return json.NewEncoder(c.App.Writer).Encode(struct {
			Model       string         `json:"model"`
			Out         string         `json:"out"`
			Config      harden.Config  `json:"config"`
			Before      robustness     `json:"before"`
			After       robustness     `json:"after"`
			BestEpoch   int            `json:"best_epoch"`
			Stopped     string         `json:"stopped,omitempty"`
			History     []harden.Epoch `json:"history"`
			MaxRelError float64        `json:"export_max_relative_error"`
			Seconds     float64        `json:"train_seconds"`
			TrainGrads  string         `json:"train_grad_engine"`
		}{hr.cfg.modelPath, out, rep.Config, before, after, rep.BestEpoch, rep.Reason, rep.History, rep.MaxRelError, rep.TrainTime.Seconds(), rep.TrainGradEngine})
	}
	o := c.App.Writer
	fmt.Fprintf(o, "hardened %s → %s (recipe %s, ε=%g, best epoch %d of %d, %s, training gradients %s)\n", hr.cfg.modelPath, out, rep.Config.Recipe, rep.Config.Eps, rep.BestEpoch, rep.Epochs, rep.TrainTime.Round(time.Second), gradsText(rep.TrainGradEngine))
	fmt.Fprintf(o, "export checked on ONNX Runtime: max relative difference %.2g from the interpreter\n", rep.MaxRelError)
	fmt.Fprintf(o, "measured on %d validation samples with %s, gradients %s:\n", hr.rc.Val.N, after.Runtime, gradsText(after.GradEngine))
	fmt.Fprintf(o, "  %-24s %8s %8s\n", "", "before", "after")
	fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", "clean", 100*before.Clean, 100*after.Clean)
	fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", fmt.Sprintf("FGSM ε=%g", rep.Config.Eps), 100*before.FGSM, 100*after.FGSM)
	fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", fmt.Sprintf("PGD ε=%g (%d steps)", rep.Config.Eps, harden.MeasurePGDSteps), 100*before.PGD, 100*after.PGD)
	printAARows(o, c, before.AutoAttack, after.AutoAttack)
	return nil
}

// readHardenRun turns harden's flags into a harden.RunConfig: the model
// loaded and compiled, the data read, every setting checked.
func readHardenRun(c *cli.Context) (*hardenRun, error) {
	cfg, err := readRunConfig(c)
	if err != nil {
		return nil, err
	}
	recipe, err := harden.ParseRecipe(c.String("recipe"))
	if err != nil {
		return nil, fmt.Errorf("--recipe: %w", err)
	}
	out := c.String("out")
	hc, err := hardenConfig(c, recipe, cfg.batch)
	if err != nil {
		return nil, err
	}
	if err := checkOutFile("out", out, false, input{"model", cfg.modelPath}, input{"data", cfg.data}, input{"val", c.String("val")}); err != nil {
		return nil, err
	}
	if hc.CheckpointDir == "" {
		hc.CheckpointDir = out + ".checkpoints"
	}
	if hc, err = hc.Normalize(); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(hc.CheckpointDir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("--checkpoint-dir %s is a file; name a folder", hc.CheckpointDir)
	}
	kind, err := gradEngine(c)
	if err != nil {
		return nil, err
	}
	hr := &hardenRun{cfg: cfg, val: c.String("val"), valSplit: c.Float64("val-split"), rc: harden.RunConfig{
		Training: hc, ModelPath: cfg.modelPath, Out: out, Resume: c.Bool("resume"), Version: version,
		ORT: cfg.ort, MeasureOnInterp: cfg.engine != "ort", GradEngine: kind,
		GradNotice: func(why string) { fmt.Fprintf(c.App.ErrWriter, "gradients: %s\n", why) },
		Measuring:  func(path string) (func(done, total int), func()) { return progress("measure " + path) },
	}}
	if hr.rc.AutoAttack, err = hardenEnsemble(c, hc.Eps); err != nil {
		return nil, err
	}
	if hr.rc.Model, err = onnx.Load(cfg.modelPath); err != nil {
		return nil, err
	}
	if hr.rc.Program, err = interp.Compile(hr.rc.Model, interpOptions(interp.Options{Seed: hc.Seed, MaxMemory: cfg.ort.MaxMemory})); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.modelPath, err)
	}
	if hr.rc.Train, hr.rc.Val, err = hardenData(c, cfg, hr.rc.Program); err != nil {
		return nil, err
	}
	hr.rc.Pre = cfg.pre // settled by the data's layout
	hr.rc.ClassNames = func(k int) ([]string, error) { return classNames(c, hr.rc.Model, nil, k) }
	return hr, nil
}

// printHistory writes the epoch lines of a finished training.
func printHistory(w io.Writer, res *harden.Result) {
	for _, e := range res.History {
		// The probe ranks the adversarial recipes' epochs: show it.
		pgd := probeNote(e)
		if e.Epoch == 0 {
			if e.Probe != "" {
				fmt.Fprintf(w, "best epoch by: %s\n", e.Probe)
			}
			fmt.Fprintf(w, "start:   val clean %.2f%%, val FGSM %.2f%%%s\n", 100*e.ValClean, 100*e.ValFGSM, pgd)
			continue
		}
		fmt.Fprintf(w, "epoch %d: loss %.4f, train acc %.2f%%, val clean %.2f%%, val FGSM %.2f%%%s%s\n",
			e.Epoch, e.TrainLoss, 100*e.TrainAcc, 100*e.ValClean, 100*e.ValFGSM, pgd, noteOf(e.Note))
	}
	if res.Early {
		fmt.Fprintf(w, "stopped early: %s\n", res.Reason)
	}
}

func noteOf(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// hardenData reads the training data and the validation data (--val, or a
// held-out split).
func hardenData(c *cli.Context, cfg *runConfig, prog *interp.Program) (train, val *harden.Data, err error) {
	read := func(path string, opt *dataset.Options) (*harden.Data, error) {
		src, err := cfg.openData(path, opt, prog.Input)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		return harden.ReadAll(src)
	}
	if train, err = read(cfg.data, &cfg.dataOpt); err != nil {
		return nil, nil, err
	}
	if v := c.String("val"); v != "" {
		val, err = read(v, &dataset.Options{Labels: c.String("val-labels"), Limit: c.Int("val-limit")})
		if errors.Is(err, dataset.ErrNoLabels) {
			err = withHint(err, ": pass --val-labels")
		}
		return train, val, err
	}
	frac := c.Float64("val-split")
	if !openUnit.contains(frac) {
		return nil, nil, fmt.Errorf("--val-split %g: give a fraction in (0, 1), or validation data with --val", frac)
	}
	if train, val, err = train.Split(frac); err != nil {
		return nil, nil, err
	}
	if n := c.Int("val-limit"); n > 0 && val.N > n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		val = val.Subset(idx)
	}
	return train, val, nil
}
