package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

const fashionNames = "../../testdata/fashion/classes.txt"

var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// TestClassNames names the classes from --class-names and from the
// model's metadata, in eval's table and JSON and in an audit's report.
func TestClassNames(t *testing.T) {
	dir := t.TempDir()
	eval := []string{"eval", "-m", cnn, "-d", fashionSlice, "--limit", "50", "--engine", "interp"}
	stdout, _, err := run(append(eval, "--class-names", fashionNames)...)
	if err != nil || !strings.Contains(stdout, "class 9 Ankle boot") {
		t.Errorf("eval --class-names: %v\n%s", err, stdout)
	}

	three := filepath.Join(dir, "three.txt")
	if err := os.WriteFile(three, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(append(eval, "--class-names", three)...); err == nil || !strings.Contains(err.Error(), "names 3 classes but the model scores 10") {
		t.Errorf("eval with 3 names for 10 classes: got %v, want the counts named", err)
	}

	// The model's own names, as a JSON list under onnxguard.classes.
	m, err := onnx.Load(cnn)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(fashionClasses)
	m.Proto.MetadataProps = append(m.Proto.MetadataProps, &onnx.StringStringEntryProto{Key: proto.String("onnxguard.classes"), Value: proto.String(string(js))})
	named := filepath.Join(dir, "named.onnx")
	if err := m.Save(named); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = run("eval", "-m", named, "-d", fashionSlice, "--limit", "50", "--engine", "interp", "--json")
	var got struct {
		Classes []string `json:"classes"`
	}
	if err != nil || json.Unmarshal([]byte(stdout), &got) != nil || !slices.Equal(got.Classes, fashionClasses) {
		t.Errorf("eval of a model naming its classes: %v, classes %q", err, got.Classes)
	}

	report := filepath.Join(dir, "audit")
	stdout, _, err = run("audit", "-m", cnn, "-d", fashionSlice, "--limit", "30", "--eps", "0.1", "--attacks", "fgsm",
		"--engine", "interp", "--class-names", fashionNames, "--report", report)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\n9 Ankle boot +\d+ +\d+\.\d\d% +\d+\.\d\d%\n`).MatchString(stdout) {
		t.Errorf("audit's table lacks the named per-class row of class 9:\n%s", stdout)
	}
	r, err := readReport(report)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(report, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Classes, fashionClasses) || !strings.Contains(string(md), "| 9 Ankle boot |") {
		t.Errorf("audit --class-names: report.json classes %q; report.md per-class rows named: %v", r.Classes, strings.Contains(string(md), "Ankle boot"))
	}
}

// junitFailures parses a JUnit file and returns its testcases' names and
// those that failed.
func junitFailures(t *testing.T, path string) (cases, failed []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("%s: not a JUnit file of one testsuite (%v):\n%s", path, err, data)
	}
	for _, c := range doc.Suites[0].Cases {
		cases = append(cases, c.Name)
		if c.Failure != nil {
			failed = append(failed, c.Name)
		}
	}
	return cases, failed
}

// TestJUnitAndCompare gates an audit through --junit, merges it with
// --junit, and compares two audits in every format.
func TestJUnitAndCompare(t *testing.T) {
	dir := t.TempDir()
	audit := []string{"audit", "-m", cnn, "-d", fashionSlice, "--limit", "40", "--eps", "0.1", "--steps", "3", "--engine", "interp"}
	before, after := filepath.Join(dir, "before"), filepath.Join(dir, "after")
	gate := filepath.Join(dir, "gate.xml")
	_, _, err := run(append(audit, "--attacks", "fgsm", "--report", before, "--fail-under", "99%", "--junit", gate)...)
	if exitCode(err) != exitBelowThreshold {
		t.Fatalf("a 99%% gate: exit %d (%v), want %d", exitCode(err), err, exitBelowThreshold)
	}
	cases, failed := junitFailures(t, gate)
	want := []string{"clean", "fgsm ε=0.1", "gate: worst accuracy ≥ --fail-under"}
	if !slices.Equal(cases, want) || !slices.Equal(failed, want) {
		t.Errorf("--junit at 99%%: cases %q, failed %q; want all of %q failed", cases, failed, want)
	}
	if _, _, err := run(append(audit, "--attacks", "fgsm,bim", "--report", after)...); err != nil {
		t.Fatal(err)
	}

	merged := filepath.Join(dir, "merged.xml")
	if _, _, err := run("report", "merge", "--fail-under", "1%", "--junit", merged, before); err != nil {
		t.Fatalf("report merge --junit: %v", err)
	}
	if _, failed := junitFailures(t, merged); len(failed) != 0 {
		t.Errorf("merge --junit at 1%%: failed %q, want none", failed)
	}

	out := filepath.Join(dir, "compare")
	stdout, _, err := run("report", "compare", "--out", out, before, after)
	if err != nil {
		t.Fatal(err)
	}
	// BIM was audited after only: its before and change are "–".
	if !regexp.MustCompile(`\nbim ε=0\.1 \(3×0\.03333\) +– +\d+\.\d\d% +–\n`).MatchString(stdout) {
		t.Errorf("report compare's table lacks the after-only BIM row:\n%s", stdout)
	}
	for _, s := range []string{"before   ../../testdata/models/fmnist_cnn.onnx", "clean", "fgsm ε=0.1", "+0.00 pp"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("report compare's table lacks %q:\n%s", s, stdout)
		}
	}
	for _, f := range []string{"comparison.json", "report.md", "report.html"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("report compare --out lacks %s: %v", f, err)
		}
	}
	stdout, _, err = run("report", "compare", "--json", before, after)
	var cmp fgsm.Comparison
	if err != nil || json.Unmarshal([]byte(stdout), &cmp) != nil || len(cmp.Rows) != 2 || cmp.Rows[1].Accuracy.Before != nil {
		t.Errorf("report compare --json: %v, rows %+v; want fgsm on both sides and bim after only", err, cmp.Rows)
	}
	if _, _, err := run("report", "compare", before); err == nil || !strings.Contains(err.Error(), "BEFORE and AFTER") {
		t.Errorf("report compare with one audit: %v", err)
	}
}

// TestHardenReport checks that harden --report writes both audits and
// their comparison, with the numbers harden prints.
func TestHardenReport(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	out, rep := filepath.Join(dir, "hardened.onnx"), filepath.Join(dir, "report")
	stdout, stderr, err := run("harden", "-m", cnn, "-d", fashionSlice, "--limit", "200", "--val-split", "0.25",
		"--recipe", "paper", "--eps", "0.1", "--epochs", "1", "--batch", "32", "--out", out, "--device", "cpu", "--json",
		"--report", rep, "--class-names", fashionNames, "--probe-steps", "5", "--autoattack", "apgd-ce", "--autoattack-iters", "5")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var printed struct {
		Before, After struct {
			Clean float64 `json:"clean_accuracy"`
			PGD   float64 `json:"pgd_accuracy"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &printed); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(rep, "comparison.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cmp fgsm.Comparison
	if err := json.Unmarshal(data, &cmp); err != nil {
		t.Fatal(err)
	}
	if cmp.Export == nil || cmp.Export.File != out || cmp.Before.Model.Path != cnn || cmp.After.Model.Path != out ||
		cmp.Before.Model.SHA256 == cmp.After.Model.SHA256 || !slices.Equal(cmp.Classes, fashionClasses) {
		t.Errorf("comparison.json: export %+v, models %s → %s, classes %q", cmp.Export, cmp.Before.Model.Path, cmp.After.Model.Path, cmp.Classes)
	}
	if *cmp.Clean.Before != printed.Before.Clean || *cmp.Clean.After != printed.After.Clean || len(cmp.Rows) != 2 ||
		*cmp.Rows[1].Accuracy.Before != printed.Before.PGD || *cmp.Rows[1].Accuracy.After != printed.After.PGD {
		t.Errorf("comparison.json's accuracies differ from those harden printed: %+v", printed)
	}
	// The hardened file carries the names, so its audit needs no flag.
	hardened, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if names, err := resolveClassNames("", hardened, nil, 10); err != nil || !slices.Equal(names, fashionClasses) {
		t.Errorf("the hardened model's class names: %q (%v), want the Fashion-MNIST names", names, err)
	}
	for _, f := range []string{"report.html", "report.md", "before/report.html", "after/report.json", "after/examples.png"} {
		if st, err := os.Stat(filepath.Join(rep, f)); err != nil || st.Size() == 0 {
			t.Errorf("harden --report lacks %s: %v", f, err)
		}
	}
}
