package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
)

// Markdown writes r as a Markdown document that reads on its own: what was
// audited and how, a table of accuracy under each attack (clean first), a
// per-class accuracy table, the warnings, and how to read the figures.
func Markdown(w io.Writer, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Robustness audit of %s\n\n", cell(modelName(r.Model)))

	b.WriteString("## What was audited\n\n")
	m := r.Model
	fmt.Fprintf(&b, "- **Model:** `%s`\n", orDash(m.Path))
	fmt.Fprintf(&b, "  - sha256 `%s`\n", orDash(m.SHA256))
	fmt.Fprintf(&b, "  - opset %d, input `%s` of shape %s\n", m.Opset, orDash(m.Input), shape(m.InputShape))
	fmt.Fprintf(&b, "- **Data:** `%s`\n", orDash(r.Data))
	fmt.Fprintf(&b, "- **Runtime:** %s (classifies the clean and adversarial images)\n", orDash(r.Runtime))
	fmt.Fprintf(&b, "- **Gradients:** %s\n", gradients(r.GradEngine))
	if s := r.CleanCheck(); s != "" {
		fmt.Fprintf(&b, "- **Clean check:** %s\n", cell(s))
	}
	fmt.Fprintf(&b, "- **Samples:** %d\n", r.Samples)
	fmt.Fprintf(&b, "- **Seed:** %d\n", r.Seed)
	fmt.Fprintf(&b, "- **Settings:** %s\n", settings(r.Settings))
	fmt.Fprintf(&b, "- **Shards:** %s\n", shards(r.Shards))
	if r.Tool != "" {
		fmt.Fprintf(&b, "- **Tool:** %s, report format %d\n", r.Tool, r.Version)
	}

	b.WriteString("\n## Accuracy under attack\n\n")
	b.WriteString("| " + strings.Join(resultsHead, " | ") + " |\n")
	b.WriteString("|---|" + strings.Repeat("--:|", len(resultsHead)-1) + "\n")
	for _, row := range resultRows(r) {
		for i := range row {
			row[i] = cell(row[i])
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}

	if len(r.Ensembles) > 0 {
		b.WriteString(ensembleMarkdown(r))
	}

	b.WriteString("\n## Accuracy per class\n\n")
	b.WriteString("| Class | Samples | clean |")
	for _, res := range r.Results {
		fmt.Fprintf(&b, " %s |", cell(res.Name()))
	}
	for _, e := range r.Ensembles {
		fmt.Fprintf(&b, " %s |", cell(e.Label()))
	}
	b.WriteString("\n|---|--:|--:|")
	b.WriteString(strings.Repeat("--:|", len(r.Results)+len(r.Ensembles)))
	b.WriteString("\n")
	for i, c := range r.CleanPerClass {
		fmt.Fprintf(&b, "| %s | %d | %s |", cell(ClassName(r.Classes, c.Class)), c.Samples, classAccuracy(r.CleanPerClass, i))
		for _, res := range r.Results {
			fmt.Fprintf(&b, " %s |", classAccuracy(res.PerClass, i))
		}
		for _, e := range r.Ensembles {
			fmt.Fprintf(&b, " %s |", classAccuracy(e.PerClass, i))
		}
		b.WriteString("\n")
	}

	warningsMarkdown(&b, r.Warnings)

	b.WriteString("\n## How to read this\n\n" + howToRead)
	_, err := io.WriteString(w, b.String())
	return err
}

const howToRead = `Each attack perturbs every image by at most ε per pixel (an L∞ radius in
pixel space, where pixels run from 0 to 1) in the direction that most raises
the model's loss. *Accuracy* is the share of all samples still classified
correctly after the attack; the gap to the clean row is what the attack
costs. *Success rate* counts only the samples the model got right when clean
(and, for a targeted attack, whose label is not the target): the share of
them the attack flipped, or, targeted, sent to the target class. *Runtime
disagreement* is the share of images on which the deployed runtime and the
engine that computed the gradients choose different classes; a large value
means the attack was aimed at a model other than the one deployed. The clean
row compares them always (the clean check above names the engine whose logits
it compared); the attacks' rows, with the interpreter, only when the audit ran
with --cross-check (otherwise the runtime alone classifies the adversarial
images).
L∞ and L2 measure the perturbations actually applied; L∞ should not exceed ε.
Accuracy should fall as ε grows and the iterative attacks (BIM, PGD,
MI-FGSM) should be at least as strong as FGSM; where they are not, the
warnings above say so, and the figures likely overstate robustness.
`

// resultsHead heads the table of accuracy under every attack that
// report.md and report.html both show; resultRows are its rows, clean
// first.
var resultsHead = []string{"Attack", "ε", "Accuracy", "Success rate", "Runtime disagreement", "Mean L∞", "Max L∞", "Mean L2", "Max L2"}

func resultRows(r *fgsm.Report) [][]string {
	rows := [][]string{{"clean", "0", percent(r.CleanAccuracy), "–", ofSamples(r.CleanDisagreement, r.Samples), "–", "–", "–", "–"}}
	for _, res := range r.Results {
		rows = append(rows, []string{res.Name(), fmt.Sprintf("%g", res.Eps), percent(res.Accuracy),
			ofSamples(res.Successes, res.Eligible), ofSamples(res.Disagreements, res.CrossChecked),
			fmt.Sprintf("%.4g", res.LinfMean), fmt.Sprintf("%.4g", res.LinfMax),
			fmt.Sprintf("%.4g", res.L2Mean), fmt.Sprintf("%.4g", res.L2Max)})
	}
	return rows
}

// modelName is the model's file name, for titles.
func modelName(m fgsm.ModelInfo) string {
	if m.Path == "" {
		return "the model"
	}
	return filepath.Base(m.Path)
}

// ClassName is "3" or, when the classes are named, "3 Dress".
func ClassName(names []string, c int) string {
	if c >= 0 && c < len(names) && names[c] != "" {
		return fmt.Sprintf("%d %s", c, names[c])
	}
	return fmt.Sprint(c)
}

// warningsMarkdown writes the Warnings section of report.md, of an audit
// or a comparison.
func warningsMarkdown(b *strings.Builder, warnings []string) {
	b.WriteString("\n## Warnings\n\n")
	if len(warnings) == 0 {
		b.WriteString("none\n")
	}
	for _, s := range warnings {
		fmt.Fprintf(b, "- %s\n", s)
	}
}

func classAccuracy(pc []fgsm.ClassCount, i int) string {
	if i >= len(pc) || pc[i].Samples == 0 {
		return "–"
	}
	return percent(pc[i].Accuracy)
}

func percent(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// ofSamples is "12.50% (5/40)", or "–" when there is nothing to count.
func ofSamples(n, of int) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f%% (%d/%d)", 100*float64(n)/float64(of), n, of)
}

func shape(s []int64) string {
	if len(s) == 0 {
		return "–"
	}
	dims := make([]string, len(s))
	dynamic := false
	for i, d := range s {
		if d < 0 {
			dims[i], dynamic = "?", true
		} else {
			dims[i] = fmt.Sprint(d)
		}
	}
	out := strings.Join(dims, "×")
	if dynamic {
		out += " (? is a dynamic axis)"
	}
	return out
}

func settings(s fgsm.Settings) string {
	out := fmt.Sprintf("batch %d, input scale %g", s.Batch, s.InputScale)
	if len(s.Mean) > 0 {
		out += fmt.Sprintf(", mean %v", s.Mean)
	}
	if len(s.Std) > 0 {
		out += fmt.Sprintf(", std %v", s.Std)
	}
	if s.Layout != dataset.NCHW {
		out += fmt.Sprintf(", model input %s", s.Layout)
	}
	if s.Limit > 0 {
		out += fmt.Sprintf(", limit %d samples", s.Limit)
	}
	return out
}

func shards(ss []fgsm.Shard) string {
	if len(ss) == 0 {
		return "–"
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		if s.Of > 1 {
			parts[i] = fmt.Sprintf("%d of %d, samples [%d, %d)", s.Index+1, s.Of, s.Start, s.End)
		} else {
			parts[i] = fmt.Sprintf("samples [%d, %d)", s.Start, s.End)
		}
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// cell escapes the characters that would break a Markdown table row, and
// < so that no name reads as an HTML tag (report.md stays plain GFM).
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;").Replace(s)
}
