package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/harden"
)

// hardenAAFlags choose the attack that ranks the epochs, the early stop,
// and the AutoAttack audit harden ends with.
var hardenAAFlags = []cli.Flag{
	&cli.StringFlag{Name: "probe", Value: harden.ProbeAPGD, Usage: "attack that ranks the adversarial recipes' epochs on up to --probe-samples validation samples: apgd (APGD-CE then APGD-T, a fast AutoAttack subset) or pgd"},
	&cli.IntFlag{Name: "probe-steps", Usage: "iterations of each probe stage", DefaultText: "20 for apgd, 10 for pgd"},
	&cli.IntFlag{Name: "probe-targets", Usage: "APGD-T target classes of the apgd probe", DefaultText: "3"},
	&cli.IntFlag{Name: "probe-samples", Usage: "validation samples the probe attacks", DefaultText: "512"},
	&cli.IntFlag{Name: "patience", Usage: "stop after `N` epochs in a row below the best epoch's probe accuracy (robust overfitting; 0 = never)"},
	&cli.BoolFlag{Name: "awp", Usage: "pgd, trades: adversarial weight perturbation (Wu et al. 2020): each step's gradient taken at weights pushed up the loss by γ·‖w‖ per layer"},
	&cli.Float64Flag{Name: "awp-gamma", Usage: "AWP's γ", DefaultText: "0.01 on pgd, 0.005 on trades"},
	&cli.IntFlag{Name: "awp-warmup", Usage: "epochs trained without AWP before it starts"},
	&cli.StringFlag{Name: "autoattack", Value: "autoattack", Usage: "ensemble run on the validation data before and after hardening: autoattack (APGD-CE, APGD-T, FAB-T, Square), autoattack-plus, a stage (apgd-ce, apgd-t, ...), or none to skip it"},
	&cli.IntFlag{Name: "autoattack-iters", Usage: "iterations of every stage of --autoattack, queries for square", DefaultText: "the reference's, 100 and 5000"},
}

// probeConfig copies the probe and AWP flags into hc; the adversarial
// recipes only, so that clean keeps refusing the probe's.
func probeConfig(c *cli.Context, hc *harden.Config) error {
	var err error
	hc.AWP = c.Bool("awp")
	if hc.AWPGamma, err = setFloatFlag(c, "awp-gamma", positive); err != nil {
		return err
	}
	if hc.AWPWarmup, err = intFlag(c, "awp-warmup", 0); err != nil {
		return err
	}
	if !hc.Recipe.Adversarial() {
		return nil
	}
	hc.Probe = c.String("probe")
	for _, f := range []struct {
		name string
		dst  *int
		min  int
	}{{"probe-steps", &hc.ProbeSteps, 1}, {"probe-targets", &hc.ProbeTargets, 1}, {"probe-samples", &hc.ProbeSamples, 1}, {"patience", &hc.Patience, 0}} {
		if *f.dst, err = setIntFlag(c, f.name, f.min); err != nil {
			return err
		}
	}
	return nil
}

// hardenEnsemble is the --autoattack ensemble at ε, or nil for none.
func hardenEnsemble(c *cli.Context, eps float64) ([]fgsm.Ensemble, error) {
	name := strings.ToLower(strings.TrimSpace(c.String("autoattack")))
	if name == "none" || name == "" {
		return nil, nil
	}
	e, err := fgsm.NewEnsemble(name, fgsm.Linf, eps, c.Int("autoattack-iters"))
	if err != nil {
		return nil, fmt.Errorf("--autoattack: %w", err)
	}
	return []fgsm.Ensemble{e}, nil
}

// aaOf reads the ensemble's accuracy after each stage from an audit.
func aaOf(r *fgsm.Report) *aaRobustness {
	if len(r.Ensembles) == 0 {
		return nil
	}
	e := r.Ensembles[0]
	a := &aaRobustness{Attack: e.Label(), Accuracy: e.Accuracy}
	for _, s := range e.PerStage {
		a.Stages = append(a.Stages, aaStage{Name: s.Name, Accuracy: s.Accuracy, Seconds: s.Seconds})
	}
	return a
}

// aaRobustness is an AutoAttack run's robust accuracy, overall and after
// each stage.
type aaRobustness struct {
	Attack   string    `json:"attack"`
	Accuracy float64   `json:"accuracy"`
	Stages   []aaStage `json:"stages"`
}

type aaStage struct {
	Name     string  `json:"name"`
	Accuracy float64 `json:"accuracy"` // after this stage and those before
	Seconds  float64 `json:"seconds"`
}

// printAARows adds the AutoAttack rows to the before/after table, or says
// why there are none.
func printAARows(o io.Writer, c *cli.Context, before, after *aaRobustness) {
	if before == nil || after == nil {
		fmt.Fprintf(o, "  AutoAttack skipped (--autoattack %s): the robust accuracy above is an upper bound\n", c.String("autoattack"))
		return
	}
	for i, s := range after.Stages {
		if len(after.Stages) > 1 {
			fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", "  after "+s.Name, 100*before.Stages[i].Accuracy, 100*s.Accuracy)
		}
	}
	fmt.Fprintf(o, "  %-24s %7.2f%% %7.2f%%\n", after.Attack, 100*before.Accuracy, 100*after.Accuracy)
}

// probeNote is an epoch's probe accuracy for the epoch lines.
func probeNote(e harden.Epoch) string {
	switch {
	case e.Probe == "":
		return ""
	case strings.HasPrefix(e.Probe, "APGD"):
		return fmt.Sprintf(", val APGD-CE+T %.2f%%", 100*e.ValAPGD)
	}
	return fmt.Sprintf(", val PGD %.2f%%", 100*e.ValPGD)
}

// robustNote is the last validated epoch's probe accuracy for the
// progress line.
func robustNote(p harden.Progress) string {
	if p.Robust < 0 {
		return ""
	}
	return fmt.Sprintf(", val robust %.2f%% after epoch %d", 100*p.Robust, p.Epoch-1)
}
