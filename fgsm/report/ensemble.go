package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/onnxguard/onnxguard/fgsm"
)

// ensembleMarkdown is the AutoAttack section of the Markdown report: per
// ensemble, the robust accuracy after each stage and its time, the worst
// case, which stage broke how many samples, and FAB's smallest
// perturbations.
func ensembleMarkdown(r *fgsm.Report) string {
	var b strings.Builder
	b.WriteString("\n## AutoAttack\n\n")
	b.WriteString("Each stage attacks only the samples the stages before it left robust; every adversarial example is checked on the deployed runtime and within the budget. A sample counts as robust only if it survives every stage, so the last row is the worst case.\n")
	for _, e := range r.Ensembles {
		fmt.Fprintf(&b, "\n### %s\n\n", cell(e.Label()))
		b.WriteString("| Stage | Attacked | Broken | Robust accuracy after | Time (s) | Queries |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|\n")
		fmt.Fprintf(&b, "| clean | %d | %d | %s | – | – |\n", r.Samples, r.Samples-r.CleanCorrect, percent(r.CleanAccuracy))
		for i, s := range e.PerStage {
			q := "–"
			if s.Queries > 0 {
				q = fmt.Sprint(s.Queries)
			}
			fmt.Fprintf(&b, "| %s%s | %d | %d | %s | %.1f | %s |\n", cell(s.Name), stageSettings(e.Stages[i]), s.Attacked, s.Broken, percent(s.Accuracy), s.Seconds, q)
		}
		fmt.Fprintf(&b, "| **worst case** | | | **%s** | | |\n", percent(e.Accuracy))
		fmt.Fprintf(&b, "\nLargest perturbation kept: L∞ %.4g, L2 %.4g. report.json lists, per sample not robust, its index and the stage that broke it (%s).\n",
			e.LinfMax, e.L2Max, brokenSummary(e.Broken))
		for _, m := range []struct {
			name string
			s    *fgsm.NormSummary
		}{{"L∞", e.MinLinf}, {"L2", e.MinL2}} {
			if m.s == nil {
				continue
			}
			q := m.s.Quantiles
			fmt.Fprintf(&b, "\nSmallest %s perturbation found (minimum-norm attack) on %d of the %d samples it ran on: median %.4g; 10%%, 25%%, 75%%, 90%%: %.4g, %.4g, %.4g, %.4g.\n",
				m.name, m.s.Found, e.MinNormSamples, m.s.Median, q[0], q[1], q[3], q[4])
		}
	}
	return b.String()
}

// stageSettings is " (5 restarts, 9 targets)" or "".
func stageSettings(s fgsm.StageSpec) string {
	var parts []string
	if s.Iters > 0 {
		parts = append(parts, fmt.Sprintf("%d iterations", s.Iters))
	}
	if s.Restarts > 1 {
		parts = append(parts, fmt.Sprintf("%d restarts", s.Restarts))
	}
	if s.Targets > 0 {
		parts = append(parts, fmt.Sprintf("%d targets", s.Targets))
	}
	if s.EOT > 1 {
		parts = append(parts, fmt.Sprintf("EOT %d", s.EOT))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// brokenSummary counts the broken samples by what broke them: "clean 13,
// apgd-ce 79".
func brokenSummary(bs []fgsm.BrokenSample) string {
	count := map[string]int{}
	var order []string
	for _, s := range bs {
		if count[s.Stage] == 0 {
			order = append(order, s.Stage)
		}
		count[s.Stage]++
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i] == "clean" && order[j] != "clean" })
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%s %d", s, count[s])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
