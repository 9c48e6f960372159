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
	"github.com/onnxguard/onnxguard/fgsm/report"
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
often the engine that computes the gradients and ONNX Runtime, which classifies
the images, disagree (on the clean images, whose logits the first gradient pass
at them gives, the report naming that engine; with --cross-check the interpreter
classifies the adversarial images too, one more forward pass an attack and
batch, and the clean ones where the gradient graph on ONNX Runtime gave their
logits, as ONNX Runtime against ONNX Runtime checks the graph but not ONNX
Runtime's kernels). It warns about signs of gradient masking: an
iterative attack weaker than FGSM, accuracy rising with ε, accuracy far from zero
at a large ε.

--attacks autoattack runs AutoAttack (Croce & Hein 2020), the field's standard:
APGD-CE, APGD-T, FAB-T and Square, each on the samples the ones before left
robust, in the norm of --norm (linf or l2); the table gives the robust accuracy
after each stage, its time, and the worst case, and report.json which stage
broke each sample and FAB's smallest perturbations. autoattack-plus adds
restarts, APGD-DLR and untargeted FAB; autoattack-rand averages gradients over
20 draws for random models. Each stage also runs alone: apgd-ce, apgd-dlr,
apgd-t, fab-t, square. Square needs only the model's outputs, so it audits
models the interpreter cannot run ("black-box only"). It warns as AutoAttack
does: Square breaking what the gradient attacks could not, zero or non-finite
gradients, probabilities for logits, outputs that change between runs. With
--report DIR an interrupted audit resumes with --resume from DIR/audit.state.

--report DIR writes report.json, report.md, report.html (one self-contained page
to open in a browser or print), robustness.png (accuracy against ε) and
examples.png (per attack: adversarial image and amplified difference).
--fail-under ACC exits with status 3 when the worst accuracy is below ACC (a
fraction such as 0.4, or a percentage such as 40%), so CI can gate a model;
--junit FILE writes that gate as a JUnit XML test result for CI reporters.
--class-names FILE names the classes in tables and pictures (else the model's
metadata or the data's folder names do). --shard K/N audits one slice;
'onnxguard report merge' combines the shard reports, 'onnxguard report compare'
sets two audits side by side.

Examples:
   onnxguard audit -m testdata/models/fmnist_cnn.onnx -d testdata/fashion/t10k-images-1000-idx3-ubyte.gz \
       --class-names testdata/fashion/classes.txt --report audit/
   onnxguard audit -m model.onnx -d cifar-10-batches-bin --eps 0.008,0.03 --attacks fgsm,pgd --steps 20 --fail-under 0.3 --junit robustness.xml
   onnxguard audit -m model.onnx -d test.npy -l labels.npy --shard 3/8 --report shard3/ --json
   onnxguard audit -m testdata/models/fmnist_cnn.onnx -d testdata/fashion/t10k-images-1000-idx3-ubyte.gz --eps 0.1 --attacks pgd,autoattack --report aa/
   onnxguard audit -m model.onnx -d test.npy -l labels.npy --norm l2 --eps 0.5 --attacks apgd-ce,apgd-t --report aa/ --resume`,
	Flags: concat(modelFlags, dataFlags, engineFlags, gradFlags, []cli.Flag{
		&cli.StringFlag{Name: "eps", Value: "0.01,0.03,0.1", Usage: "comma-separated budgets in pixel space [0,1]: L∞ radii, or radii in --norm for autoattack and its stages"},
		&cli.StringFlag{Name: "attacks", Value: "fgsm,pgd", Usage: "comma-separated attacks: fgsm, bim, pgd, mifgsm; autoattack, autoattack-plus, autoattack-rand; apgd-ce, apgd-dlr, apgd-t, fab-t, square"},
	}, iterFlags, aaFlags, []cli.Flag{
		&cli.StringFlag{Name: "report", Usage: "write report.json, report.md, report.html, robustness.png and examples.png into `DIR`"},
		&cli.StringFlag{Name: "fail-under", Usage: "exit with status 3 when the worst accuracy is below `ACC` (0.4 or 40%)"},
		&cli.IntFlag{Name: "examples", Value: 8, Usage: "samples per attack kept for examples.png"},
		&cli.BoolFlag{Name: "json", Usage: "print the report object to stdout"},
		classNamesFlag,
		junitFlag,
	}),
	Before: requireFlags("model", "data"),
	Action: func(c *cli.Context) error {
		cfg, err := readAuditConfig(c)
		if err != nil {
			return err
		}
		return runAudit(c, cfg)
	},
}

// auditConfig is what audit's flags become, but for the model and data
// (openAttack reads those).
type auditConfig struct {
	attacks  []fgsm.Config
	ens      []fgsm.Ensemble
	gate     report.Gate
	examples int
	report   string // --report DIR, "" for none
	resume   bool
	seed     uint64
	// crossCheck (--cross-check) has the interpreter classify the
	// adversarial images too, to count where it and the runtime disagree,
	// and the clean images where the gradient graph gave their logits.
	crossCheck bool
}

func readAuditConfig(c *cli.Context) (*auditConfig, error) {
	cfg := &auditConfig{report: c.String("report"), resume: c.Bool("resume"), seed: c.Uint64("seed"), crossCheck: c.Bool("cross-check")}
	var err error
	if cfg.attacks, cfg.ens, err = auditAttacks(c); err != nil {
		return nil, err
	}
	if cfg.gate, err = parseGate(c.String("fail-under")); err != nil {
		return nil, err
	}
	if cfg.examples, err = intFlag(c, "examples", 0); err != nil {
		return nil, err
	}
	if err := checkOutDir("report", cfg.report); err != nil {
		return nil, err
	}
	return cfg, nil
}

// blackBox reports whether every attack asked for runs without gradients,
// so that the interpreter need not run the model.
func (cfg *auditConfig) blackBox() bool {
	bb := len(cfg.attacks) == 0 && len(cfg.ens) > 0
	for _, e := range cfg.ens {
		bb = bb && e.BlackBox()
	}
	return bb
}

// runAudit audits the model on the data, resuming from --report's state
// when asked, and writes and prints the report.
func runAudit(c *cli.Context, cfg *auditConfig) error {
	open := openAttack
	if cfg.blackBox() {
		open = openBlackBox
	}
	a, err := open(c)
	if err != nil {
		return err
	}
	defer a.Close()
	update, done := progress("audit")
	opt := fgsm.AuditOptions{Attacks: cfg.attacks, Ensembles: cfg.ens, Batch: a.cfg.batch, Seed: cfg.seed, Check: a.check,
		RuntimeName: a.runtime, CrossCheck: cfg.crossCheck, Pre: a.cfg.pre, Progress: update, Examples: cfg.examples}
	if len(cfg.ens) > 0 {
		opt.Log = func(line string) { fmt.Fprintln(c.App.ErrWriter, line) }
	}
	dropState, err := auditState(c, cfg.report, cfg.resume, a, &opt)
	if err != nil {
		return err
	}
	r, err := fgsm.Audit(c.Context, a.model, a.src, opt)
	done()
	if err != nil {
		return err
	}
	if err := a.fill(r); err != nil {
		return err
	}
	if cfg.report != "" {
		if err := writeReport(cfg.report, r); err != nil {
			return err
		}
		dropState()
		fmt.Fprintf(c.App.ErrWriter, "wrote the report to %s\n", cfg.report)
	}
	if err := writeJUnit(c, r, cfg.gate); err != nil {
		return err
	}
	return showReport(c, r, a.cfg.json, cfg.gate)
}

// auditAttacks is every attack of --attacks at every ε of --eps: the
// fixed-step attacks, then the AutoAttack ensembles and stages.
func auditAttacks(c *cli.Context) ([]fgsm.Config, []fgsm.Ensemble, error) {
	names, err := nameList("attacks", c.String("attacks"))
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, errors.New("--attacks: name at least one of fgsm, bim, pgd, mifgsm, autoattack")
	}
	// An L∞ budget is at most 1 in pixel space; an L2 one can be larger.
	budgets := unit
	if norm, err := fgsm.ParseNorm(c.String("norm")); err == nil && norm == fgsm.L2 {
		budgets = positive
	}
	epss, err := floatList("eps", c.String("eps"), budgets)
	if err != nil {
		return nil, nil, err
	}
	if len(epss) == 0 {
		return nil, nil, errors.New("--eps: give at least one budget, e.g. 0.03")
	}
	ens, names, err := ensembles(c, names, epss)
	if err != nil {
		return nil, nil, err
	}
	var out []fgsm.Config
	for _, n := range names {
		m, err := fgsm.ParseMethod(n)
		if err != nil {
			_, err = fgsm.NewEnsemble(n, fgsm.Linf, epss[0], 0) // names every attack there is
			return nil, nil, fmt.Errorf("--attacks: %w", err)
		}
		for _, e := range epss {
			cfg, err := attackSettings(c, m, e)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, cfg)
		}
	}
	return out, ens, nil
}

// parseGate reads --fail-under: a fraction in [0,1] or a percentage; no
// gate when it is not given.
func parseGate(s string) (report.Gate, error) {
	if s = strings.TrimSpace(s); s == "" {
		return report.Gate{}, nil
	}
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if pct {
		v /= 100
	}
	if err != nil || !(v >= 0 && v <= 1) {
		return report.Gate{}, fmt.Errorf("--fail-under %q: give an accuracy as a fraction from 0 to 1 (0.4) or a percentage (40%%)", s)
	}
	return report.Gate{Threshold: v, Set: true}, nil
}

// showReport prints the report (JSON or the table), its warnings on
// stderr, and applies the --fail-under gate.
func showReport(c *cli.Context, r *fgsm.Report, asJSON bool, gate report.Gate) error {
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
	return gateReport(r, gate)
}

// gateReport fails with exitBelowThreshold when the worst accuracy is
// below the threshold.
func gateReport(r *fgsm.Report, gate report.Gate) error {
	if !gate.Set {
		return nil
	}
	if w := r.WorstAccuracy(); w < gate.Threshold {
		return &exitError{fmt.Errorf("robustness gate failed: worst accuracy %.2f%% is below --fail-under %.2f%%", 100*w, 100*gate.Threshold), exitBelowThreshold}
	}
	return nil
}

// printReport writes the audit's table for people.
func printReport(w io.Writer, r *fgsm.Report) {
	fmt.Fprintf(w, "model    %s (sha256 %.12s…, opset %d)\n", r.Model.Path, r.Model.SHA256, r.Model.Opset)
	fmt.Fprintf(w, "data     %s, %d samples, classified by %s, seed %d\n", r.Data, r.Samples, r.Runtime, r.Seed)
	fmt.Fprintf(w, "gradients %s\n", gradsText(r.GradEngine))
	if s := r.CleanCheck(); s != "" {
		fmt.Fprintf(w, "clean check %s\n", s)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-44s %9s %9s %8s %8s %8s\n", "attack", "accuracy", "success", "L∞ mean", "L2 mean", "disagree")
	fmt.Fprintf(w, "%-44s %8.2f%% %9s %8s %8s %8d\n", "clean", 100*r.CleanAccuracy, "-", "-", "-", r.CleanDisagreement)
	for _, res := range r.Results {
		disagree := "-" // not cross-checked
		if res.CrossChecked > 0 {
			disagree = fmt.Sprint(res.Disagreements)
		}
		fmt.Fprintf(w, "%-44s %8.2f%% %8.2f%% %8.4f %8.3f %8s\n", res.Name(), 100*res.Accuracy, 100*res.SuccessRate, res.LinfMean, res.L2Mean, disagree)
	}
	printClasses(w, r)
	printEnsembles(w, r)
	if len(r.Results)+len(r.Ensembles) > 1 {
		fmt.Fprintf(w, "\nworst-case accuracy over every attack: %.2f%%\n", 100*r.WorstAccuracy())
	}
}

// gradsText describes a report's gradient engine for people.
func gradsText(name string) string {
	switch {
	case name == "":
		return "not recorded"
	case strings.HasPrefix(name, "onnxruntime-graph/"):
		return "onnxruntime graph (" + strings.TrimPrefix(name, "onnxruntime-graph/") + "); other losses on the interpreter"
	}
	return name
}
