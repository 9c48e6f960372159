package report

import (
	"fmt"

	"github.com/onnxguard/onnxguard/fgsm"
)

// ensembleSections are the AutoAttack parts of an audit page: per
// ensemble and budget the cascade (robust accuracy after each stage, what
// it broke, its time, the worst case), and the smallest perturbations its
// minimum-norm stage (FAB) found, where it ran.
func ensembleSections(r *fgsm.Report) []Section {
	var out []Section
	for i, e := range r.Ensembles {
		t := &Table{Head: []string{"Stage", "Attacked", "Broken", "Robust accuracy after it", "Seconds"},
			Numeric: []bool{false, true, true, true, true}}
		t.Rows = append(t.Rows, []Cell{{Text: "clean"}, {Text: fmt.Sprint(e.Samples)},
			{Text: fmt.Sprint(e.Samples - r.CleanCorrect)}, {Text: percent(r.CleanAccuracy)}, {Text: "–"}})
		for _, s := range e.PerStage {
			t.Rows = append(t.Rows, []Cell{{Text: s.Name}, {Text: fmt.Sprint(s.Attacked)}, {Text: fmt.Sprint(s.Broken)},
				{Text: percent(s.Accuracy)}, {Text: fmt.Sprintf("%.1f", s.Seconds)}})
		}
		t.Rows = append(t.Rows, []Cell{{Text: "worst case"}, {Text: "–"}, {Text: "–"},
			{Text: percent(e.Accuracy), Class: "bad"}, {Text: "–"}})
		out = append(out, Section{ID: fmt.Sprintf("ensemble-%d", i), Title: "AutoAttack: " + e.Label(), Table: t,
			Intro: "Each stage attacks only the samples the stages before it left robust; every adversarial example is re-checked on the deployed model and within the budget. The worst case over all stages is the robust accuracy."})
		if s := minNormSection(e, i); s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// minNormSection summarises the smallest perturbations FAB found, in both
// norms, as quantiles over the samples it ran on.
func minNormSection(e *fgsm.EnsembleResult, i int) *Section {
	if e.MinLinf == nil && e.MinL2 == nil {
		return nil
	}
	t := &Table{Head: []string{"Norm", "Found on", "10%", "25%", "median", "75%", "90%"},
		Numeric: []bool{false, true, true, true, true, true, true}}
	for _, m := range []struct {
		name string
		s    *fgsm.NormSummary
	}{{"L∞", e.MinLinf}, {"L2", e.MinL2}} {
		if m.s == nil || len(m.s.Quantiles) != 5 {
			continue
		}
		row := []Cell{{Text: m.name}, {Text: ofSamples(m.s.Found, e.MinNormSamples)}}
		for _, q := range m.s.Quantiles {
			row = append(row, Cell{Text: fmt.Sprintf("%.4g", q)})
		}
		t.Rows = append(t.Rows, row)
	}
	return &Section{ID: fmt.Sprintf("min-norm-%d", i), Title: "Smallest adversarial perturbations found (" + e.Label() + ")", Table: t,
		Intro: "FAB looks for the smallest perturbation that changes the class, whatever the budget. A sample whose smallest perturbation is above ε is robust at ε; the quantiles say how far above or below the budget the model's decision boundary lies."}
}
