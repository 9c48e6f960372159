package fgsm

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// compareReport is an audit of 20 samples of two classes, 10 each: clean
// correct per class, then per attack the correct count per class.
func compareReport(data string, seed uint64, clean [2]int, attacks map[Config][2]int, order []Config) *Report {
	pc := func(c [2]int) []ClassCount {
		return []ClassCount{{Class: 0, Samples: 10, Correct: c[0]}, {Class: 1, Samples: 10, Correct: c[1]}}
	}
	r := &Report{Data: data, Seed: seed, Samples: 20, CleanCorrect: clean[0] + clean[1], CleanPerClass: pc(clean),
		Settings: Settings{InputScale: 1}, Classes: []string{"cat", "dog"}}
	for _, cfg := range order {
		c := attacks[cfg]
		r.Results = append(r.Results, &Result{Config: cfg, Samples: 20, Correct: c[0] + c[1], PerClass: pc(c)})
	}
	r.finish()
	return r
}

func TestCompare(t *testing.T) {
	fg := Config{Method: FGSM, Eps: 0.1}
	pgd := Config{Method: PGD, Eps: 0.1, Steps: 10, Alpha: 0.025, RandomStart: true}
	bim := Config{Method: BIM, Eps: 0.1, Steps: 10, Alpha: 0.01}
	before := compareReport("test.gz", 1, [2]int{9, 8}, map[Config][2]int{fg: {2, 1}, bim: {0, 0}}, []Config{fg, bim})
	after := compareReport("test.gz", 1, [2]int{8, 8}, map[Config][2]int{fg: {6, 5}, pgd: {4, 3}}, []Config{pgd, fg})
	c, err := Compare(before, after)
	if err != nil {
		t.Fatal(err)
	}
	str := func(ch Change) string {
		f := func(p *float64) string {
			if p == nil {
				return "-"
			}
			return fmt.Sprintf("%.2f", *p)
		}
		d, ok := ch.Diff()
		if !ok {
			return f(ch.Before) + "→" + f(ch.After)
		}
		return fmt.Sprintf("%s→%s (%+.2f)", f(ch.Before), f(ch.After), d)
	}
	var rows []string
	for _, r := range c.Rows {
		rows = append(rows, r.Name+": "+str(r.Accuracy))
	}
	wantRows := []string{
		"pgd ε=0.1 (10×0.025, random start): -→0.35", // after only
		"fgsm ε=0.1: 0.15→0.55 (+0.40)",
		"bim ε=0.1 (10×0.01): 0.00→-", // before only
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("rows %q, want %q", rows, wantRows)
	}
	if got := str(c.Clean); got != "0.85→0.80 (-0.05)" {
		t.Errorf("clean %s, want 0.85→0.80 (-0.05)", got)
	}
	if got := str(c.Worst); got != "0.00→0.35 (+0.35)" {
		t.Errorf("worst %s, want 0.00→0.35 (+0.35)", got)
	}
	var classes []string
	for _, pc := range c.PerClass {
		s := fmt.Sprintf("%d (%d): clean %s", pc.Class, pc.Samples, str(pc.Clean))
		for _, a := range pc.Attacks {
			s += ", " + str(a)
		}
		classes = append(classes, s)
	}
	wantClasses := []string{
		"0 (10): clean 0.90→0.80 (-0.10), -→0.40, 0.20→0.60 (+0.40), 0.00→-",
		"1 (10): clean 0.80→0.80 (+0.00), -→0.30, 0.10→0.50 (+0.40), 0.00→-",
	}
	if !reflect.DeepEqual(classes, wantClasses) {
		t.Errorf("per class %q, want %q", classes, wantClasses)
	}
	if len(c.Warnings) != 0 || !reflect.DeepEqual(c.Classes, []string{"cat", "dog"}) {
		t.Errorf("warnings %q and classes %q, want none and [cat dog]", c.Warnings, c.Classes)
	}
	// A missing side is null in JSON, not a zero accuracy.
	js, err := json.Marshal(c.Rows[0])
	if err != nil || !strings.Contains(string(js), `"accuracy":{"before":null,"after":0.35`) {
		t.Errorf("row JSON %s (%v), want a null before", js, err)
	}
}

func TestCompareUnfair(t *testing.T) {
	fg := Config{Method: FGSM, Eps: 0.1}
	before := compareReport("a.gz", 1, [2]int{9, 8}, map[Config][2]int{fg: {2, 1}}, []Config{fg})
	after := compareReport("b.gz", 2, [2]int{9, 8}, map[Config][2]int{fg: {2, 1}}, []Config{fg})
	after.Settings.InputScale = 255
	after.Warnings = []string{"something odd"}
	c, err := Compare(before, after)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(c.Warnings, "\n")
	for _, want := range []string{"different data", "seeds 1 and 2", "different preprocessing", "after: something odd"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if _, err := Compare(nil, after); err == nil {
		t.Errorf("Compare(nil, after): want an error")
	}
}
