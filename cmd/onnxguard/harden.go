package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// verifyTolerance is the largest relative difference allowed between ONNX
// Runtime on an exported file and the interpreter on the trained weights.
const verifyTolerance = 1e-4

var hardenCommand = &cli.Command{
	Name:  "harden",
	Usage: "fine-tune a model with adversarial training and export it to ONNX",
	Description: `Trains the model's weights with the interpreter, on adversarial examples made
from the current weights at every step, and writes the best epoch back into the
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
	Flags: concat(modelFlags, dataFlags, engineFlags, []cli.Flag{
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
	Runtime string  `json:"runtime"`
	Clean   float64 `json:"clean_accuracy"`
	FGSM    float64 `json:"fgsm_accuracy"`
	PGD     float64 `json:"pgd_accuracy"`
	// AutoAttack is --autoattack's result, nil when skipped.
	AutoAttack *aaRobustness `json:"autoattack,omitempty"`
}

func runHarden(c *cli.Context) error {
	cfg, err := readRunConfig(c)
	if err != nil {
		return err
	}
	recipe, err := harden.ParseRecipe(c.String("recipe"))
	if err != nil {
		return fmt.Errorf("--recipe: %w", err)
	}
	out := c.String("out")
	hc, err := hardenConfig(c, recipe, cfg.batch)
	if err != nil {
		return err
	}
	if err := checkOutFile("out", out, false, input{"model", cfg.modelPath}, input{"data", cfg.data}, input{"val", c.String("val")}); err != nil {
		return err
	}
	if hc.CheckpointDir == "" {
		hc.CheckpointDir = out + ".checkpoints"
	}
	if hc, err = hc.Normalize(); err != nil {
		return err
	}
	if fi, err := os.Stat(hc.CheckpointDir); err == nil && !fi.IsDir() {
		return fmt.Errorf("--checkpoint-dir %s is a file; name a folder", hc.CheckpointDir)
	}
	// The export is checked on ONNX Runtime: find it before hours of
	// training, not after.
	if _, err := ort.FindLibrary(cfg.ort.Library); err != nil {
		return fmt.Errorf("harden checks the model it exports on ONNX Runtime: %w", err)
	}
	model, err := onnx.Load(cfg.modelPath)
	if err != nil {
		return err
	}
	if hc.ModelSHA256, err = model.SHA256(); err != nil {
		return err
	}
	prog, err := interp.Compile(model, interpOptions(interp.Options{Seed: hc.Seed, MaxMemory: cfg.ort.MaxMemory}))
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.modelPath, err)
	}
	train, val, err := hardenData(c, cfg, prog)
	if err != nil {
		return err
	}
	w := c.App.ErrWriter
	fmt.Fprintf(w, "training on %d samples, validating on %d: recipe %s, ε=%g, %d epochs of batch %d, %s lr %g\n",
		train.N, val.N, hc.Recipe, hc.Eps, hc.Epochs, hc.Batch, hc.Optimizer, hc.LR)
	before, beforeReport, err := measure(c, cfg, cfg.modelPath, prog, val, hc)
	if err != nil {
		return fmt.Errorf("measuring the original model: %w", err)
	}
	// Checked before training, not after: names for another model fail now.
	names, err := classNames(c, model, nil, len(beforeReport.CleanPerClass))
	if err != nil {
		return err
	}
	start := time.Now()
	update, finish := progressNote("harden")
	report := func(p harden.Progress) {
		if update != nil && p.Phase == "train" {
			// Steps take hc.Batch clean samples each, the last of an
			// epoch what is left.
			done := (p.Epoch-1)*train.N + min(p.Step*hc.Batch, train.N)
			update(done, p.Epochs*train.N, fmt.Sprintf("epoch %d/%d loss %.4f acc %.2f%%%s", p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, robustNote(p)))
		}
	}
	var res *harden.Result
	if c.Bool("resume") {
		res, err = harden.Resume(c.Context, prog, cfg.pre, train, val, hc, report)
	} else {
		res, err = harden.Train(c.Context, prog, cfg.pre, train, val, hc, report)
	}
	finish()
	if err != nil {
		if errors.Is(err, harden.ErrDiverged) {
			return fmt.Errorf("%w (checkpoints in %s)", err, hc.CheckpointDir)
		}
		return err
	}
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
	trained := time.Since(start)
	// prog holds the best epoch's weights, which the file should hold too.
	meta := withClassNames(provenance(hc, res.Epochs, res.BestEpoch, hc.ModelSHA256), names) // epochs completed, as export writes
	if err := export.Write(out, model, res.Weights, &export.Options{Metadata: meta}); err != nil {
		return err
	}
	maxRel, err := verifyExport(out, prog, val.X, min(val.N, 64), cfg)
	if err != nil {
		return err
	}
	// prog holds the exported weights, and verifyExport has just shown
	// ONNX Runtime on the file agrees with it: its gradients are the file's.
	after, afterReport, err := measure(c, cfg, out, prog, val, hc)
	if err != nil {
		return fmt.Errorf("measuring the exported model: %w", err)
	}
	if dir := c.String("report"); dir != "" {
		if err := writeHardenReport(c, cfg, dir, model, hc.ModelSHA256, out, names, beforeReport, afterReport, maxRel); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintf(w, "wrote the before/after comparison to %s\n", dir)
	}
	if cfg.json {
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
		}{cfg.modelPath, out, hc, before, after, res.BestEpoch, res.Reason, res.History, maxRel, trained.Seconds()})
	}
	o := c.App.Writer
	fmt.Fprintf(o, "hardened %s → %s (recipe %s, ε=%g, best epoch %d of %d, %s)\n", cfg.modelPath, out, hc.Recipe, hc.Eps, res.BestEpoch, res.Epochs, trained.Round(time.Second))
	fmt.Fprintf(o, "export checked on ONNX Runtime: max relative difference %.2g from the interpreter\n", maxRel)
	fmt.Fprintf(o, "measured on %d validation samples with %s:\n", val.N, after.Runtime)
	fmt.Fprintf(o, "  %-24s %8s %8s\n", "", "before", "after")
	fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", "clean", 100*before.Clean, 100*after.Clean)
	fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", fmt.Sprintf("FGSM ε=%g", hc.Eps), 100*before.FGSM, 100*after.FGSM)
	fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", fmt.Sprintf("PGD ε=%g (10 steps)", hc.Eps), 100*before.PGD, 100*after.PGD)
	printAARows(o, c, before.AutoAttack, after.AutoAttack)
	return nil
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

// measure audits prog, the model of the file at path, on val with FGSM and
// PGD at the training ε; the images are classified by the runtime of
// --engine, for ONNX Runtime on the file.
func measure(c *cli.Context, cfg *runConfig, path string, prog *interp.Program, val *harden.Data, hc harden.Config) (robustness, *fgsm.Report, error) {
	fm, err := fgsm.NewModel(prog, cfg.pre)
	if err != nil {
		return robustness{}, nil, err
	}
	src, err := dataset.FromMemory(val.X, val.Labels, val.N, val.C, val.H, val.W)
	if err != nil {
		return robustness{}, nil, err
	}
	opt := fgsm.AuditOptions{Batch: 256, Seed: hc.Seed, Examples: 8, Attacks: []fgsm.Config{
		{Method: fgsm.FGSM, Eps: hc.Eps},
		{Method: fgsm.PGD, Eps: hc.Eps, Steps: 10, RandomStart: true},
	}}
	if opt.Ensembles, err = hardenEnsemble(c, hc.Eps); err != nil {
		return robustness{}, nil, err
	}
	if cfg.engine == "ort" {
		sess, err := ort.Open(path, &cfg.ort)
		if err != nil {
			return robustness{}, nil, err
		}
		defer sess.Close()
		opt.Check, opt.RuntimeName = sess, "onnxruntime/"+sess.Device()
	}
	update, finish := progress("measure " + path)
	opt.Progress = update
	r, err := fgsm.Audit(c.Context, fm, src, opt)
	finish()
	if err != nil {
		return robustness{}, nil, err
	}
	return robustness{Runtime: r.Runtime, Clean: r.CleanAccuracy, FGSM: r.Results[0].Accuracy, PGD: r.Results[1].Accuracy, AutoAttack: aaOf(r)}, r, nil
}

// provenance is the metadata_props an exported model carries: what was
// trained, how, and from which file.
func provenance(hc harden.Config, epochs, best int, sourceSHA256 string) map[string]string {
	return map[string]string{
		"onnxguard.recipe":        string(hc.Recipe),
		"onnxguard.eps":           strconv.FormatFloat(hc.Eps, 'g', -1, 64),
		"onnxguard.epochs":        strconv.Itoa(epochs),
		"onnxguard.best_epoch":    strconv.Itoa(best),
		"onnxguard.bn":            hc.BN,
		"onnxguard.seed":          strconv.FormatUint(hc.Seed, 10),
		"onnxguard.source_sha256": sourceSHA256,
		"onnxguard.version":       version,
	}
}

// verifyExport compares ONNX Runtime on the file at out with prog, which
// holds the weights written there, on n samples of pixels x.
func verifyExport(out string, prog *interp.Program, x []float32, n int, cfg *runConfig) (float64, error) {
	d := cfg.pre.Layout.SampleDims(prog.Input.Shape)
	if d == nil {
		return 0, fmt.Errorf("%s: input %q has shape %v; want an image input", out, prog.Input.Name, prog.Input.Shape)
	}
	c, h, w := int(d[0]), int(d[1]), int(d[2])
	in := cfg.pre.Apply(nil, x[:n*c*h*w], c, h*w)
	maxRel, err := export.Verify(out, prog, &interp.Tensor{Shape: cfg.pre.Layout.Shape(n, c, h, w), Data: in}, verifyTolerance, &cfg.ort)
	if err != nil {
		return maxRel, fmt.Errorf("%s was written but does not agree with the interpreter: %w", out, err)
	}
	return maxRel, nil
}
