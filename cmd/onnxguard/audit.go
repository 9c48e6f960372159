package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/fgsm"
)

// exitBelowThreshold is the exit status of an audit whose worst accuracy
// falls below --fail-under, distinct from errors (1) so a CI gate can tell
// a weak model from a broken run.
const exitBelowThreshold = 3

var auditCommand = &cli.Command{
	Name:  "audit",
	Usage: "measure robustness under several attacks and budgets, with a report",
	Description: `Measures clean accuracy, then accuracy under every attack of --attacks at every
ε of --eps (pixel space [0,1]); attack success rate among correctly classified
samples; mean and max L∞ and L2 of the perturbations; per-class accuracy; and how
often the interpreter, which computes the gradients, and ONNX Runtime, which
classifies the images, disagree. It warns about signs of gradient masking: an
iterative attack weaker than FGSM, accuracy rising with ε, accuracy far from zero
at a large ε.

--report DIR writes report.json, report.md, robustness.png (accuracy against ε)
and examples.png (clean, adversarial and amplified difference). --fail-under ACC
exits with status 3 when the worst accuracy is below ACC (a fraction such as 0.4,
or a percentage such as 40%), so CI can gate a model. --shard K/N audits one
slice; 'onnxguard report merge' combines the shard reports.

Examples:
   onnxguard audit -m testdata/models/fmnist_cnn.onnx -d testdata/fashion/t10k-images-1000-idx3-ubyte.gz --report audit/
   onnxguard audit -m model.onnx -d cifar-10-batches-bin --eps 0.008,0.03 --attacks fgsm,pgd --steps 20 --fail-under 0.3
   onnxguard audit -m model.onnx -d test.npy -l labels.npy --shard 3/8 --report shard3/ --json`,
	Flags: concat(modelFlags, dataFlags, engineFlags, []cli.Flag{
		&cli.StringFlag{Name: "eps", Value: "0.01,0.03,0.1", Usage: "comma-separated L∞ budgets in pixel space [0,1]"},
		&cli.StringFlag{Name: "attacks", Value: "fgsm,pgd", Usage: "comma-separated attacks: fgsm, bim, pgd, mifgsm"},
	}, iterFlags, []cli.Flag{
		&cli.StringFlag{Name: "report", Usage: "write report.json, report.md, robustness.png and examples.png into `DIR`"},
		&cli.StringFlag{Name: "fail-under", Usage: "exit with status 3 when the worst accuracy is below `ACC` (0.4 or 40%)"},
		&cli.IntFlag{Name: "examples", Value: 8, Usage: "samples per attack kept for examples.png"},
		&cli.BoolFlag{Name: "json", Usage: "print the report object to stdout"},
	}),
	Before: requireFlags("model", "data"),
	Action: func(c *cli.Context) error {
		attacks, err := auditAttacks(c)
		if err != nil {
			return err
		}
		threshold, gate, err := parseThreshold(c.String("fail-under"))
		if err != nil {
			return err
		}
		examples, err := intFlag(c, "examples", 0)
		if err != nil {
			return err
		}
		if err := checkOutDir("report", c.String("report")); err != nil {
			return err
		}
		a, err := openAttack(c)
		if err != nil {
			return err
		}
		defer a.Close()
		update, done := progress("audit")
		r, err := fgsm.Audit(c.Context, a.model, a.src, fgsm.AuditOptions{Attacks: attacks, Batch: a.cfg.batch,
			Seed: c.Uint64("seed"), Check: a.check, RuntimeName: a.runtime, Progress: update, Examples: examples})
		done()
		if err != nil {
			return err
		}
		if err := a.fill(r); err != nil {
			return err
		}
		if dir := c.String("report"); dir != "" {
			if err := writeReport(dir, r); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "wrote the report to %s\n", dir)
		}
		return showReport(c, r, a.cfg.json, threshold, gate)
	},
}

// auditAttacks is every attack of --attacks at every ε of --eps.
func auditAttacks(c *cli.Context) ([]fgsm.Config, error) {
	names, err := nameList("attacks", c.String("attacks"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("--attacks: name at least one of fgsm, bim, pgd, mifgsm")
	}
	epss, err := floatList("eps", c.String("eps"), unit)
	if err != nil {
		return nil, err
	}
	if len(epss) == 0 {
		return nil, errors.New("--eps: give at least one budget, e.g. 0.03")
	}
	var out []fgsm.Config
	for _, n := range names {
		m, err := fgsm.ParseMethod(n)
		if err != nil {
			return nil, fmt.Errorf("--attacks: %w", err)
		}
		for _, e := range epss {
			cfg, err := attackSettings(c, m, e)
			if err != nil {
				return nil, err
			}
			out = append(out, cfg)
		}
	}
	return out, nil
}

// parseThreshold reads --fail-under: a fraction in [0,1] or a percentage.
func parseThreshold(s string) (float64, bool, error) {
	if s = strings.TrimSpace(s); s == "" {
		return 0, false, nil
	}
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if pct {
		v /= 100
	}
	if err != nil || !(v >= 0 && v <= 1) {
		return 0, false, fmt.Errorf("--fail-under %q: give an accuracy as a fraction from 0 to 1 (0.4) or a percentage (40%%)", s)
	}
	return v, true, nil
}

// showReport prints the report (JSON or the table), its warnings on
// stderr, and applies the --fail-under gate.
func showReport(c *cli.Context, r *fgsm.Report, asJSON bool, threshold float64, gate bool) error {
	if asJSON {
		if err := json.NewEncoder(c.App.Writer).Encode(r); err != nil {
			return err
		}
	} else {
		printReport(c.App.Writer, r)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	return gateReport(r, threshold, gate)
}

// gateReport fails with exitBelowThreshold when the worst accuracy is
// below the threshold.
func gateReport(r *fgsm.Report, threshold float64, gate bool) error {
	if !gate {
		return nil
	}
	if w := r.WorstAccuracy(); w < threshold {
		return &exitError{fmt.Errorf("robustness gate failed: worst accuracy %.2f%% is below --fail-under %.2f%%", 100*w, 100*threshold), exitBelowThreshold}
	}
	return nil
}

// printReport writes the audit's table for people.
func printReport(w io.Writer, r *fgsm.Report) {
	fmt.Fprintf(w, "model    %s (sha256 %.12s…, opset %d)\n", r.Model.Path, r.Model.SHA256, r.Model.Opset)
	fmt.Fprintf(w, "data     %s, %d samples, classified by %s, seed %d\n\n", r.Data, r.Samples, r.Runtime, r.Seed)
	fmt.Fprintf(w, "%-44s %9s %9s %8s %8s %8s\n", "attack", "accuracy", "success", "L∞ mean", "L2 mean", "disagree")
	fmt.Fprintf(w, "%-44s %8.2f%% %9s %8s %8s %8d\n", "clean", 100*r.CleanAccuracy, "-", "-", "-", r.CleanDisagreement)
	for _, res := range r.Results {
		fmt.Fprintf(w, "%-44s %8.2f%% %8.2f%% %8.4f %8.3f %8d\n", res.Name(), 100*res.Accuracy, 100*res.SuccessRate, res.LinfMean, res.L2Mean, res.Disagreements)
	}
}
