package fgsm

import (
	"errors"
	"fmt"
)

// Comparison sets two audits side by side, typically of a model before
// and after hardening: clean accuracy, accuracy under every attack and ε,
// per class, and the change. Attacks are matched by their whole
// configuration; one audited on one side only has a row with the other
// side missing (nil).
type Comparison struct {
	Before Side `json:"before"`
	After  Side `json:"after"`
	// Classes names the classes, from After, else Before.
	Classes []string `json:"classes,omitempty"`
	Clean   Change   `json:"clean"`
	Worst   Change   `json:"worst"` // the lowest accuracy of each audit, clean included
	Rows    []Row    `json:"rows"`
	// PerClass is accuracy per class, clean and under each row's attack.
	PerClass []ClassChange `json:"per_class"`
	// Export is the check of a hardened model's exported file, when the
	// comparison comes from harden.
	Export *ExportCheck `json:"export_check,omitempty"`
	// Warnings say where the two audits differ in a way that makes the
	// comparison unfair (other data, seed or preprocessing), then each
	// audit's own warnings.
	Warnings []string `json:"warnings"`
}

// Side identifies one of the audits compared.
type Side struct {
	Model    ModelInfo `json:"model"`
	Data     string    `json:"data"`
	Runtime  string    `json:"runtime"`
	Samples  int       `json:"samples"`
	Seed     uint64    `json:"seed"`
	Settings Settings  `json:"settings"`
}

// Change is an accuracy before and after; nil where a side did not
// measure it.
type Change struct {
	Before *float64 `json:"before"`
	After  *float64 `json:"after"`
}

// Diff is After − Before, and whether both sides were measured.
func (c Change) Diff() (float64, bool) {
	if c.Before == nil || c.After == nil {
		return 0, false
	}
	return *c.After - *c.Before, true
}

// Row is one attack at one ε.
type Row struct {
	Config
	Name     string `json:"name"`
	Accuracy Change `json:"accuracy"`
}

// ClassChange is one class's accuracy, clean and under each row's attack
// (Attacks[i] belongs to Rows[i]).
type ClassChange struct {
	Class   int      `json:"class"`
	Samples int      `json:"samples"` // in the after audit, else the before
	Clean   Change   `json:"clean"`
	Attacks []Change `json:"attacks"`
}

// ExportCheck is how closely ONNX Runtime on an exported file matched the
// interpreter on the trained weights.
type ExportCheck struct {
	File             string  `json:"file"`
	MaxRelativeError float64 `json:"max_relative_error"`
	Tolerance        float64 `json:"tolerance"`
}

// Compare sets before and after side by side. Rows follow after's attacks,
// then those only before audited.
func Compare(before, after *Report) (*Comparison, error) {
	if before == nil || after == nil {
		return nil, errors.New("compare: need two reports, before and after")
	}
	c := &Comparison{Before: sideOf(before), After: sideOf(after), Classes: after.Classes,
		Clean: both(before.CleanAccuracy, after.CleanAccuracy), Worst: both(before.WorstAccuracy(), after.WorstAccuracy())}
	if len(c.Classes) == 0 {
		c.Classes = before.Classes
	}
	type pair struct{ before, after *Result }
	var configs []Config
	pairs := map[Config]*pair{}
	add := func(res *Result, isAfter bool) {
		p := pairs[res.Config]
		if p == nil {
			p = &pair{}
			pairs[res.Config] = p
			configs = append(configs, res.Config)
		}
		if isAfter && p.after == nil {
			p.after = res
		} else if !isAfter && p.before == nil {
			p.before = res
		}
	}
	for _, res := range after.Results {
		add(res, true)
	}
	for _, res := range before.Results {
		add(res, false)
	}
	k := max(len(before.CleanPerClass), len(after.CleanPerClass))
	for i := range k {
		cc := ClassChange{Class: i, Clean: classChange(before.CleanPerClass, after.CleanPerClass, i)}
		if i < len(after.CleanPerClass) {
			cc.Samples = after.CleanPerClass[i].Samples
		} else {
			cc.Samples = before.CleanPerClass[i].Samples
		}
		c.PerClass = append(c.PerClass, cc)
	}
	for _, cfg := range configs {
		p := pairs[cfg]
		row := Row{Config: cfg, Name: cfg.Name()}
		var bpc, apc []ClassCount
		if p.before != nil {
			row.Accuracy.Before, bpc = ptr(p.before.Accuracy), p.before.PerClass
		}
		if p.after != nil {
			row.Accuracy.After, apc = ptr(p.after.Accuracy), p.after.PerClass
		}
		c.Rows = append(c.Rows, row)
		for i := range c.PerClass {
			c.PerClass[i].Attacks = append(c.PerClass[i].Attacks, classChange(bpc, apc, i))
		}
	}
	c.Warnings = unfair(before, after)
	for _, w := range before.Warnings {
		c.Warnings = append(c.Warnings, "before: "+w)
	}
	for _, w := range after.Warnings {
		c.Warnings = append(c.Warnings, "after: "+w)
	}
	return c, nil
}

func sideOf(r *Report) Side {
	return Side{Model: r.Model, Data: r.Data, Runtime: r.Runtime, Samples: r.Samples, Seed: r.Seed, Settings: r.Settings}
}

func ptr(f float64) *float64 { return &f }

func both(before, after float64) Change { return Change{Before: ptr(before), After: ptr(after)} }

// classChange is class i's accuracy in two per-class lists, nil where a
// list lacks the class or holds no sample of it.
func classChange(before, after []ClassCount, i int) Change {
	var c Change
	if i < len(before) && before[i].Samples > 0 {
		c.Before = ptr(before[i].Accuracy)
	}
	if i < len(after) && after[i].Samples > 0 {
		c.After = ptr(after[i].Accuracy)
	}
	return c
}

// unfair names the differences between two audits that make their numbers
// incomparable.
func unfair(before, after *Report) []string {
	var w []string
	if before.Data != after.Data {
		w = append(w, fmt.Sprintf("the audits ran on different data (%s before, %s after): the accuracies are not comparable", before.Data, after.Data))
	}
	if before.Samples != after.Samples {
		w = append(w, fmt.Sprintf("the audits cover %d and %d samples; audit both on the same samples", before.Samples, after.Samples))
	}
	if before.Seed != after.Seed {
		w = append(w, fmt.Sprintf("the audits used seeds %d and %d: random starts differ, so small changes may be noise", before.Seed, after.Seed))
	}
	if !before.Settings.samePreprocessing(after.Settings) {
		w = append(w, "the audits used different preprocessing (--input-scale, --mean, --std, --layout); check each matches its model")
	}
	return w
}
