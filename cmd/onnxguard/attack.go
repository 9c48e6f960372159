package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/fgsm/report"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime"
)

var attackCommand = &cli.Command{
	Name:  "attack",
	Usage: "craft adversarial examples and measure the accuracy they leave",
	Description: `Attacks every sample with gradients from the engine --grad-engine chooses
(onnxguard's interpreter, or a gradient graph on ONNX Runtime), then classifies
the clean and adversarial images with ONNX Runtime (--engine interp uses the
interpreter for that) and prints clean and adversarial accuracy, and on how
many clean images the gradient engine and the runtime disagree. ε is an L∞
budget in pixel space [0,1], whatever --input-scale, --mean and --std say.
--out writes the adversarial images as a float32 N×C×H×W .npy of pixels in [0,1].

Attacks: fgsm (one step of ε, as in the seed paper), bim (--steps of --alpha,
projected into the ε-ball), pgd (bim from a random start; --restarts keeps the
strongest per sample), mifgsm (bim with momentum). --target makes any of them
targeted. Results are deterministic for a --seed.

Examples:
   onnxguard attack -m testdata/models/fmnist_cnn.onnx -d testdata/fashion/t10k-images-1000-idx3-ubyte.gz --eps 0.1 --out adv.npy
   onnxguard attack -m model.onnx -d cifar-10-batches-bin --method pgd --eps 0.03 --steps 20 --restarts 3 --json
   onnxguard attack -m model.onnx -d test.npy -l labels.npy --method pgd --eps 0.1 --target 3 --png-dir adv/`,
	Flags: concat(modelFlags, dataFlags, engineFlags, gradFlags, []cli.Flag{
		&cli.StringFlag{Name: "method", Value: "fgsm", Usage: "attack: fgsm, bim, pgd or mifgsm"},
		&cli.Float64Flag{Name: "eps", Value: 0.1, Usage: "L∞ budget in pixel space [0,1] (the seed paper: 0.1 for MNIST-like data, 0.03 for CIFAR-10 and ImageNet)"},
	}, iterFlags, []cli.Flag{
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the adversarial images to this .npy `FILE`"},
		&cli.StringFlag{Name: "png-dir", Usage: "also write each adversarial image as a PNG into `DIR`"},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object to stdout"},
		classNamesFlag,
	}),
	Before: requireFlags("model", "data"),
	Action: func(c *cli.Context) error {
		cfg, err := readAttackConfig(c)
		if err != nil {
			return err
		}
		return runAttack(c, cfg)
	},
}

// attackConfig is what attack's flags become, but for the model and data
// (openAttack reads those).
type attackConfig struct {
	attack      fgsm.Config
	out, pngDir string
	seed        uint64
	crossCheck  bool // --cross-check: the interpreter classifies the adversarial images too
}

func readAttackConfig(c *cli.Context) (*attackConfig, error) {
	method, err := fgsm.ParseMethod(c.String("method"))
	if err != nil {
		return nil, fmt.Errorf("--method: %w", err)
	}
	if method == fgsm.FGSM {
		for _, f := range []string{"alpha", "steps", "random-start", "restarts", "momentum"} {
			if c.IsSet(f) {
				return nil, fmt.Errorf("--%s: fgsm is a single step from the clean image; use --method bim, pgd or mifgsm for steps, random starts and restarts", f)
			}
		}
	}
	cfg := &attackConfig{out: c.String("out"), pngDir: c.String("png-dir"), seed: c.Uint64("seed"), crossCheck: c.Bool("cross-check")}
	if cfg.attack, err = attackSettings(c, method, c.Float64("eps")); err != nil {
		return nil, err
	}
	if cfg.out != "" {
		if err := checkOutFile("out", cfg.out, true, input{"model", c.String("model")}, input{"data", c.String("data")}, input{"labels", c.String("labels")}); err != nil {
			return nil, err
		}
	}
	if err := checkOutDir("png-dir", cfg.pngDir); err != nil {
		return nil, err
	}
	return cfg, nil
}

// runAttack runs the attack over the data as a one-attack audit, writes
// the adversarial images and prints the result.
func runAttack(c *cli.Context, cfg *attackConfig) error {
	a, err := openAttack(c)
	if err != nil {
		return err
	}
	defer a.Close()
	sink, finish, err := adversarialSink(cfg.out, cfg.pngDir, a)
	if err != nil {
		return err
	}
	update, done := progress(string(cfg.attack.Method))
	opt := fgsm.AuditOptions{Attacks: []fgsm.Config{cfg.attack}, Batch: a.cfg.batch, Seed: cfg.seed,
		Check: a.check, RuntimeName: a.runtime, CrossCheck: cfg.crossCheck, Progress: update, Sink: sink}
	r, err := fgsm.Audit(c.Context, a.model, a.src, opt)
	done()
	if err != nil {
		finish(false)
		return err
	}
	if err := finish(true); err != nil {
		return err
	}
	if err := a.fill(r); err != nil {
		return err
	}
	return printAttack(c, r, a.cfg.json, cfg.out)
}

// printAttack writes an attack's result: one JSON object with --json,
// else its figures for people.
func printAttack(c *cli.Context, r *fgsm.Report, asJSON bool, outFile string) error {
	res := r.Results[0]
	if asJSON {
		out := struct {
			Model               fgsm.ModelInfo `json:"model"`
			Data                string         `json:"data"`
			Runtime             string         `json:"runtime"`
			GradEngine          string         `json:"grad_engine"`
			Samples             int            `json:"samples"`
			CleanAccuracy       float64        `json:"clean_accuracy"`
			AdversarialAccuracy float64        `json:"adversarial_accuracy"`
			RuntimeDisagreement float64        `json:"runtime_disagreement"`
			CleanDisagreement   int            `json:"clean_disagreement"`
			CleanLogits         string         `json:"clean_logits,omitempty"`
			Seed                uint64         `json:"seed"`
			Shard               fgsm.Shard     `json:"shard"`
			Out                 string         `json:"out,omitempty"`
			*fgsm.Result
			Warnings []string `json:"warnings"`
		}{r.Model, r.Data, r.Runtime, r.GradEngine, r.Samples, r.CleanAccuracy, res.Accuracy, res.RuntimeDisagreement,
			r.CleanDisagreement, r.CleanLogits, r.Seed,
			r.Shards[0], outFile, res, r.Warnings}
		return json.NewEncoder(c.App.Writer).Encode(out)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "model     %s, %d samples of %s, classified by %s\n", r.Model.Path, r.Samples, r.Data, r.Runtime)
	fmt.Fprintf(w, "gradients %s\n", gradsText(r.GradEngine))
	fmt.Fprintf(w, "clean     %6.2f%%  (%d/%d)\n", 100*r.CleanAccuracy, r.CleanCorrect, r.Samples)
	if s := r.CleanCheck(); s != "" {
		fmt.Fprintf(w, "          %s\n", s)
	}
	printResult(w, res)
	for _, warn := range r.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", warn)
	}
	if outFile != "" {
		fmt.Fprintf(c.App.ErrWriter, "wrote %d adversarial images to %s (float32 N×C×H×W, pixels in [0,1])\n", r.Samples, outFile)
	}
	return nil
}

// printResult writes one attack's figures for people.
func printResult(w interface{ Write([]byte) (int, error) }, res *fgsm.Result) {
	fmt.Fprintf(w, "%-9s %6.2f%%  (%d/%d)  %s\n", res.Method, 100*res.Accuracy, res.Correct, res.Samples, res.Name())
	fmt.Fprintf(w, "          attack success %.2f%% of %d correctly classified samples", 100*res.SuccessRate, res.Eligible)
	if res.Skipped > 0 {
		fmt.Fprintf(w, ", %d skipped (labelled with the target)", res.Skipped)
	}
	fmt.Fprintf(w, "\n          perturbation L∞ mean %.4f max %.4f, L2 mean %.3f max %.3f\n", res.LinfMean, res.LinfMax, res.L2Mean, res.L2Max)
	if res.CrossChecked > 0 {
		fmt.Fprintf(w, "          interpreter and runtime disagree on %d of %d adversarial images (%.2f%%)\n", res.Disagreements, res.CrossChecked, 100*res.RuntimeDisagreement)
	}
}

// adversarialSink returns the Audit sink that streams adversarial images
// to an .npy file and PNGs, and the function that finishes (keep) or
// discards (!keep) the .npy.
func adversarialSink(out, pngDir string, a *attackSession) (func(int, *dataset.Batch, *fgsm.Outcome) error, func(keep bool) error, error) {
	var w *dataset.NpyWriter
	if out != "" {
		var err error
		if w, err = dataset.CreateNpy(out, []int{a.src.Len(), a.model.C, a.model.H, a.model.W}); err != nil {
			return nil, nil, err
		}
	}
	if pngDir != "" {
		if err := os.MkdirAll(pngDir, 0o755); err != nil {
			if w != nil {
				w.Abort()
			}
			return nil, nil, fmt.Errorf("--png-dir: %w", err)
		}
	}
	sink := func(_ int, b *dataset.Batch, o *fgsm.Outcome) error {
		if w != nil {
			if err := w.Write(o.Adv); err != nil {
				return err
			}
		}
		if pngDir == "" {
			return nil
		}
		per := b.C * b.H * b.W
		for i := 0; i < b.N; i++ {
			pred := runtime.Argmax(o.Logits[i*o.K : (i+1)*o.K])
			name := filepath.Join(pngDir, fmt.Sprintf("%06d_label%d_pred%d.png", b.Start+i, b.Labels[i], pred))
			if err := writePNG(name, o.Adv[i*per:(i+1)*per], b.C, b.H, b.W); err != nil {
				return err
			}
		}
		return nil
	}
	finish := func(keep bool) error {
		if w == nil {
			return nil
		}
		if !keep {
			w.Abort()
			return nil
		}
		return w.Close()
	}
	return sink, finish, nil
}

// writePNG saves one C×H×W image of pixels in [0,1] (grey for one channel,
// RGB for three), drawn as the audit report draws its examples.
func writePNG(path string, px []float32, c, h, w int) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, report.PixelImage(px, c, h, w, 1)); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return onnx.WriteFileAtomic(path, buf.Bytes())
}
