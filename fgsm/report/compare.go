package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/onnxguard/onnxguard/fgsm"
)

// ComparisonFile is the JSON of a comparison; WriteCompareDir writes it
// beside report.md and report.html.
const ComparisonFile = "comparison.json"

var errNoComparison = errors.New("no comparison to render")

// WriteCompareDir writes comparison.json, report.md and report.html of c
// into dir, creating dir if it is missing; each file atomically.
func WriteCompareDir(dir string, c *fgsm.Comparison) error {
	if c == nil {
		return errNoComparison
	}
	return writeFiles(dir, ComparisonFile, c,
		func(w io.Writer) error { return CompareMarkdown(w, c) },
		func(w io.Writer) error { return CompareHTML(w, c) })
}

// CompareText writes c as a plain-text table for a terminal.
func CompareText(w io.Writer, c *fgsm.Comparison) error {
	if c == nil {
		return errNoComparison
	}
	var b strings.Builder
	fmt.Fprintf(&b, "before   %s (sha256 %.12s…)\n", orDash(c.Before.Model.Path), c.Before.Model.SHA256)
	fmt.Fprintf(&b, "after    %s (sha256 %.12s…)\n", orDash(c.After.Model.Path), c.After.Model.SHA256)
	fmt.Fprintf(&b, "data     %s, %d samples, classified by %s\n\n", orDash(c.After.Data), c.After.Samples, orDash(c.After.Runtime))
	// Pad by characters, not bytes: ε and – are two and three bytes.
	pad := func(s string, n int) string { return strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s))) }
	line := func(name, before, after, change string) {
		fmt.Fprintf(&b, "%s%s %s%s %s%s %s%s\n", name, pad(name, 44), pad(before, 9), before, pad(after, 9), after, pad(change, 10), change)
	}
	line("accuracy", "before", "after", "change")
	row := func(name string, ch fgsm.Change) {
		line(name, maybePercent(ch.Before), maybePercent(ch.After), change(ch))
	}
	row("clean", c.Clean)
	for _, r := range c.Rows {
		row(r.Name, r.Accuracy)
	}
	row("worst", c.Worst)
	if c.Export != nil {
		fmt.Fprintf(&b, "\nexport   %s matches the interpreter within %.2g (tolerance %g)\n", c.Export.File, c.Export.MaxRelativeError, c.Export.Tolerance)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CompareMarkdown writes c as GitHub-flavoured Markdown.
func CompareMarkdown(w io.Writer, c *fgsm.Comparison) error {
	if c == nil {
		return errNoComparison
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", cell(compareTitle(c)))
	b.WriteString("## What was compared\n\n| | Before | After |\n|---|---|---|\n")
	for _, f := range sideFacts(c) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f.key, cell(f.before), cell(f.after))
	}
	b.WriteString("\n## Accuracy\n\n| Attack | ε | Before | After | Change |\n|---|--:|--:|--:|--:|\n")
	for _, r := range accuracyRows(c) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(r.name), r.eps, maybePercent(r.ch.Before), maybePercent(r.ch.After), change(r.ch))
	}
	b.WriteString("\n## Accuracy per class\n\nEach cell is before → after (change in percentage points).\n\n| Class | Samples | clean |")
	for _, r := range c.Rows {
		fmt.Fprintf(&b, " %s |", cell(r.Name))
	}
	b.WriteString("\n|---|--:|--:|" + strings.Repeat("--:|", len(c.Rows)) + "\n")
	for _, pc := range c.PerClass {
		fmt.Fprintf(&b, "| %s | %d | %s |", cell(ClassName(c.Classes, pc.Class)), pc.Samples, beforeAfter(pc.Clean))
		for _, a := range pc.Attacks {
			fmt.Fprintf(&b, " %s |", beforeAfter(a))
		}
		b.WriteString("\n")
	}
	if c.Export != nil {
		fmt.Fprintf(&b, "\n## Export check\n\n%s\n", exportText(c.Export))
	}
	warningsMarkdown(&b, c.Warnings)
	_, err := io.WriteString(w, b.String())
	return err
}

// CompareHTML writes c as one self-contained HTML page.
func CompareHTML(w io.Writer, c *fgsm.Comparison) error {
	if c == nil {
		return errNoComparison
	}
	return WritePage(w, newComparePage(c))
}

// newComparePage is the page of a comparison.
func newComparePage(c *fgsm.Comparison) *Page {
	p := &Page{Title: compareTitle(c),
		Subtitle: fmt.Sprintf("worst accuracy %s → %s", maybePercent(c.Worst.Before), maybePercent(c.Worst.After))}
	for i, side := range []string{"Before", "After"} {
		card := Card{Title: side}
		for _, f := range sideFacts(c) {
			v := f.before
			if i == 1 {
				v = f.after
			}
			card.Facts = append(card.Facts, Fact{Key: f.key, Value: v, Code: f.code})
		}
		p.Cards = append(p.Cards, card)
	}
	acc := &Table{Head: []string{"Attack", "ε", "Before", "After", "Change"}, Numeric: []bool{false, true, true, true, true}}
	for _, r := range accuracyRows(c) {
		acc.Rows = append(acc.Rows, []Cell{{Text: r.name}, {Text: r.eps}, {Text: maybePercent(r.ch.Before)},
			{Text: maybePercent(r.ch.After)}, {Text: change(r.ch), Class: changeClass(r.ch)}})
	}
	p.Sections = append(p.Sections, Section{ID: "accuracy", Title: "Accuracy", Table: acc,
		Intro: "Accuracy of each model, clean and under every attack and ε audited; the change is in percentage points."})
	p.Sections = append(p.Sections, compareClassSection(c))
	if c.Export != nil {
		p.Sections = append(p.Sections, Section{ID: "export", Title: "Export check", Intro: exportText(c.Export)})
	}
	ws := warningsSection(c.Warnings)
	if ws.Empty != "" {
		ws.Empty = "None: the audits ran on the same data, seed and preprocessing, and neither warned."
	}
	p.Sections = append(p.Sections, ws)
	return p
}

// compareClassSection is per-class accuracy before and after, as a table
// and as bars (clean, and the attack that leaves the hardened model
// weakest among those audited on both sides).
func compareClassSection(c *fgsm.Comparison) Section {
	t := &Table{Head: []string{"Class", "Samples", "clean"}, Numeric: []bool{false, true, true}}
	for _, r := range c.Rows {
		t.Head, t.Numeric = append(t.Head, r.Name), append(t.Numeric, true)
	}
	strongest := -1
	for i, r := range c.Rows {
		if _, ok := r.Accuracy.Diff(); ok && (strongest < 0 || *r.Accuracy.After < *c.Rows[strongest].Accuracy.After) {
			strongest = i
		}
	}
	bars := &BarChart{Series: []string{"before: clean", "after: clean"}}
	if strongest >= 0 {
		n := c.Rows[strongest].Name
		bars.Series = append(bars.Series, "before: "+n, "after: "+n)
	}
	for _, pc := range c.PerClass {
		row := []Cell{{Text: ClassName(c.Classes, pc.Class)}, {Text: fmt.Sprint(pc.Samples)}, {Text: beforeAfter(pc.Clean), Class: changeClass(pc.Clean)}}
		for _, a := range pc.Attacks {
			row = append(row, Cell{Text: beforeAfter(a), Class: changeClass(a)})
		}
		t.Rows = append(t.Rows, row)
		g := BarGroup{Label: ClassName(c.Classes, pc.Class)}
		chs := []fgsm.Change{pc.Clean}
		if strongest >= 0 {
			chs = append(chs, pc.Attacks[strongest])
		}
		for _, ch := range chs {
			for _, v := range []*float64{ch.Before, ch.After} {
				b := Bar{Text: maybePercent(v)}
				if v != nil {
					b.Value = *v
				}
				g.Bars = append(g.Bars, b)
			}
		}
		bars.Groups = append(bars.Groups, g)
	}
	return Section{ID: "classes", Title: "Accuracy per class", Table: t, Bars: bars,
		Intro: "Each cell is before → after, with the change in percentage points."}
}

func compareTitle(c *fgsm.Comparison) string {
	return fmt.Sprintf("Robustness of %s compared with %s", modelName(c.After.Model), modelName(c.Before.Model))
}

type sideFact struct {
	key, before, after string
	code               bool
}

func sideFacts(c *fgsm.Comparison) []sideFact {
	b, a := c.Before, c.After
	return []sideFact{
		{"model", orDash(b.Model.Path), orDash(a.Model.Path), true},
		{"sha256", orDash(b.Model.SHA256), orDash(a.Model.SHA256), true},
		{"data", orDash(b.Data), orDash(a.Data), true},
		{"samples", fmt.Sprint(b.Samples), fmt.Sprint(a.Samples), false},
		{"classifier", orDash(b.Runtime), orDash(a.Runtime), false},
		{"seed", fmt.Sprint(b.Seed), fmt.Sprint(a.Seed), false},
		{"preprocessing", preprocessing(b.Settings), preprocessing(a.Settings), false},
	}
}

type accuracyRow struct {
	name, eps string
	ch        fgsm.Change
}

// accuracyRows are clean, every attack, then the worst of each side.
func accuracyRows(c *fgsm.Comparison) []accuracyRow {
	rows := []accuracyRow{{"clean", "0", c.Clean}}
	for _, r := range c.Rows {
		rows = append(rows, accuracyRow{r.Name, fmt.Sprintf("%g", r.Eps), r.Accuracy})
	}
	return append(rows, accuracyRow{"worst of the above", "–", c.Worst})
}

func exportText(e *fgsm.ExportCheck) string {
	return fmt.Sprintf("ONNX Runtime on %s matches the interpreter on the trained weights within a relative difference of %.2g (tolerance %g), so the audited file is the trained model.",
		e.File, e.MaxRelativeError, e.Tolerance)
}

func maybePercent(p *float64) string {
	if p == nil {
		return "–"
	}
	return percent(*p)
}

// change is "+12.50 pp", or "–" when a side is missing.
func change(ch fgsm.Change) string {
	d, ok := ch.Diff()
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%+.2f pp", 100*d)
}

// changeClass colours a rise good and a fall bad.
func changeClass(ch fgsm.Change) string {
	switch d, ok := ch.Diff(); {
	case !ok || d == 0:
		return ""
	case d > 0:
		return "good"
	default:
		return "bad"
	}
}

// beforeAfter is "60.00% → 80.00% (+20.00 pp)".
func beforeAfter(ch fgsm.Change) string {
	s := maybePercent(ch.Before) + " → " + maybePercent(ch.After)
	if _, ok := ch.Diff(); ok {
		s += " (" + change(ch) + ")"
	}
	return s
}
