package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
)

// HTML writes r as one self-contained HTML page (report.html): the model
// card, the settings and seed, accuracy under every attack, per-class
// accuracy as a table and bars, the warnings with what each means, the
// robustness curve and the example images, the pictures embedded.
func HTML(w io.Writer, r *fgsm.Report) error {
	if r == nil {
		return errNoReport
	}
	p, err := newAuditPage(r)
	if err != nil {
		return err
	}
	return WritePage(w, p)
}

// newAuditPage is the page of one audit. Sections for further measures
// (an attack cascade, minimal perturbations) are appended here.
func newAuditPage(r *fgsm.Report) (*Page, error) {
	p := &Page{
		Title:    "Robustness audit of " + modelName(r.Model),
		Subtitle: fmt.Sprintf("%d samples of %s; worst accuracy %s", r.Samples, orDash(r.Data), percent(r.WorstAccuracy())),
		Cards:    []Card{modelCard(r), settingsCard(r)},
	}
	p.Sections = append(p.Sections, resultsSection(r))
	p.Sections = append(p.Sections, ensembleSections(r)...)
	p.Sections = append(p.Sections, classSection(r), warningsSection(r.Warnings))
	fig, err := pngFigure("accuracy against ε, one line per attack", "Accuracy (%) against the budget ε: a marker at every measured budget, joined only between budgets of the same attack; the square at ε = 0 and the dashed line are the clean accuracy.",
		func(w io.Writer) error { return robustness(w, r) })
	if err != nil {
		return nil, fmt.Errorf("drawing the robustness curve: %w", err)
	}
	p.Sections = append(p.Sections, Section{ID: "robustness", Title: "Robustness curve", Figure: fig})
	ex := Section{ID: "examples", Title: "Adversarial examples",
		Empty: "The audit kept no example images (audit --examples 0)."}
	if len(r.Examples) > 0 {
		ex.Empty = ""
		if ex.Figure, err = pngFigure("clean and adversarial images per attack", "Each row is one sample: its clean image, then per attack the adversarial image and the perturbation amplified so that −ε is black and +ε white. Predictions in red fooled the model.",
			func(w io.Writer) error { return WriteExamples(w, r) }); err != nil {
			return nil, fmt.Errorf("drawing the examples: %w", err)
		}
	}
	p.Sections = append(p.Sections, ex, Section{ID: "how-to-read", Title: "How to read this", Intro: strings.Join(strings.Fields(howToRead), " ")})
	return p, nil
}

// modelCard says what was audited.
func modelCard(r *fgsm.Report) Card {
	m := r.Model
	return Card{Title: "Model", Facts: []Fact{
		{Key: "file", Value: orDash(m.Path), Code: true},
		{Key: "sha256", Value: orDash(m.SHA256), Code: true},
		{Key: "opset", Value: fmt.Sprint(m.Opset)},
		{Key: "input", Value: fmt.Sprintf("%s, shape %s", orDash(m.Input), shape(m.InputShape))},
		{Key: "preprocessing", Value: preprocessing(r.Settings)},
		{Key: "classifier", Value: orDash(r.Runtime) + " (gradients: " + gradients(r.GradEngine) + ")"},
		{Key: "clean check", Value: orDash(r.CleanCheck())},
		{Key: "classes", Value: classesFact(r)},
	}}
}

// settingsCard says how the audit ran, so that it can be run again.
func settingsCard(r *fgsm.Report) Card {
	facts := []Fact{
		{Key: "data", Value: orDash(r.Data), Code: true},
		{Key: "samples", Value: fmt.Sprint(r.Samples)},
		{Key: "shards", Value: shards(r.Shards)},
		{Key: "seed", Value: fmt.Sprint(r.Seed)},
		{Key: "batch", Value: fmt.Sprint(r.Settings.Batch)},
	}
	if r.Settings.Limit > 0 {
		facts = append(facts, Fact{Key: "limit", Value: fmt.Sprintf("%d samples", r.Settings.Limit)})
	}
	if r.Tool != "" {
		facts = append(facts, Fact{Key: "tool", Value: fmt.Sprintf("%s, report format %d", r.Tool, r.Version)})
	}
	return Card{Title: "Settings", Facts: facts}
}

func preprocessing(s fgsm.Settings) string {
	out := fmt.Sprintf("pixels in [0,1] × %g", s.InputScale)
	if len(s.Mean) > 0 {
		out += fmt.Sprintf(", − mean %v", s.Mean)
	}
	if len(s.Std) > 0 {
		out += fmt.Sprintf(", ÷ std %v", s.Std)
	}
	if s.Layout != dataset.NCHW {
		out += fmt.Sprintf(", transposed to %s", s.Layout)
	}
	return out
}

func classesFact(r *fgsm.Report) string {
	if len(r.Classes) == 0 {
		return fmt.Sprintf("%d, unnamed", len(r.CleanPerClass))
	}
	return fmt.Sprintf("%d: %s", len(r.Classes), strings.Join(r.Classes, ", "))
}

// resultsSection is the table of accuracy under every attack.
func resultsSection(r *fgsm.Report) Section {
	t := &Table{Head: resultsHead, Numeric: make([]bool, len(resultsHead))}
	for i := 1; i < len(t.Numeric); i++ {
		t.Numeric[i] = true
	}
	worst := r.WorstAccuracy()
	for i, row := range resultRows(r) {
		cells := make([]Cell, len(row))
		for j, text := range row {
			cells[j].Text = text
		}
		if i > 0 && r.Results[i-1].Accuracy == worst {
			cells[2].Class = "bad"
		}
		t.Rows = append(t.Rows, cells)
	}
	return Section{ID: "results", Title: "Accuracy under attack", Table: t,
		Intro: "Accuracy is the share of all samples still classified correctly; the success rate counts the samples that were right when clean. The worst accuracy is in red."}
}

// classSection is per-class accuracy: a table with every attack, and bars
// for clean accuracy beside that under the strongest attack.
func classSection(r *fgsm.Report) Section {
	t := &Table{Head: []string{"Class", "Samples", "clean"}, Numeric: []bool{false, true, true}}
	for _, res := range r.Results {
		t.Head, t.Numeric = append(t.Head, res.Name()), append(t.Numeric, true)
	}
	strongest := StrongestResult(r)
	bars := &BarChart{Series: []string{"clean"}}
	if strongest != nil {
		bars.Series = append(bars.Series, strongest.Name())
	}
	for i, c := range r.CleanPerClass {
		row := []Cell{{Text: ClassName(r.Classes, c.Class)}, {Text: fmt.Sprint(c.Samples)}, {Text: classAccuracy(r.CleanPerClass, i)}}
		for _, res := range r.Results {
			row = append(row, Cell{Text: classAccuracy(res.PerClass, i)})
		}
		t.Rows = append(t.Rows, row)
		if c.Samples == 0 {
			continue
		}
		g := BarGroup{Label: ClassName(r.Classes, c.Class), Bars: []Bar{{Value: c.Accuracy, Text: percent(c.Accuracy)}}}
		if strongest != nil && i < len(strongest.PerClass) {
			a := strongest.PerClass[i].Accuracy
			g.Bars = append(g.Bars, Bar{Value: a, Text: percent(a)})
		}
		bars.Groups = append(bars.Groups, g)
	}
	return Section{ID: "classes", Title: "Accuracy per class", Table: t, Bars: bars,
		Intro: "Classes the attacks break most easily are where an attacker starts; the bars show clean accuracy beside that under the strongest attack."}
}

// StrongestResult is the result with the lowest accuracy; nil when none.
func StrongestResult(r *fgsm.Report) *fgsm.Result {
	var s *fgsm.Result
	for _, res := range r.Results {
		if s == nil || res.Accuracy < s.Accuracy {
			s = res
		}
	}
	return s
}

func warningsSection(warnings []string) Section {
	s := Section{ID: "warnings", Title: "Warnings", Empty: "None: no sign of gradient masking or of a broken setup was found."}
	for _, w := range warnings {
		s.Notes = append(s.Notes, Note{Text: w, Meaning: warningMeaning(w)})
	}
	if len(s.Notes) > 0 {
		s.Empty = ""
	}
	return s
}

// warningMeanings say, for each kind of warning fgsm's sanity checks give
// (recognised by a phrase of its text), what it means and what to do.
var warningMeanings = []struct{ phrase, meaning string }{
	{"above FGSM's", "What it means: a many-step attack should find at least what one step finds. When it does not, the loss surface is likely flat or noisy near the data (gradient masking), and every number here may overstate robustness. Try more steps, restarts or a smaller step size before trusting the figures."},
	{"accuracy rises from", "What it means: a larger budget contains every perturbation of a smaller one, so accuracy can only fall as ε grows. A rise means the attack failed to use its budget, the classic sign of gradient masking; the true robust accuracy at the larger ε is at most the smaller one's."},
	{"above the clean", "What it means: an attack that raises accuracy is not attacking; the gradients point the wrong way. This is typical of FGSM-trained models (label leaking, catastrophic overfitting). Judge the model by the strongest iterative attack, and retrain with a random-start recipe (fgsm-rs or pgd)."},
	{"at so large an ε", "What it means: at this budget an image can be changed almost beyond recognition, so an attack that works should leave nearly nothing. High accuracy points at masked gradients or at preprocessing that differs from the model's (check --input-scale, --mean and --std)."},
	{"disagree on", "What it means: the engine that computes the gradients and the runtime that classifies do not compute the same function, so the attacks aim at a slightly different model than the one deployed. Check the preprocessing flags and report the model to onnxguard if they are right."},
}

func warningMeaning(w string) string {
	for _, m := range warningMeanings {
		if strings.Contains(w, m.phrase) {
			return m.meaning
		}
	}
	return "What it means: the figures may not describe the model's real robustness; check the setup before relying on them."
}

// gradients names a report's gradient engine; reports from before it was
// recorded took every gradient from the interpreter.
func gradients(engine string) string {
	if engine == "" || engine == "interpreter" {
		return "onnxguard's interpreter"
	}
	return engine + ", other losses on onnxguard's interpreter"
}
