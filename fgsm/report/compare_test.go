package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
)

// testComparison compares testReport with a hardened twin: clean 88%,
// every attack 20 points better (per class: 2 more correct in each class
// that had room), and one attack (BIM ε=0.1) audited after only.
func testComparison(t *testing.T) *fgsm.Comparison {
	t.Helper()
	before, after := testReport(), testReport()
	after.Model.Path, after.Model.SHA256 = "demo/hardened.onnx", strings.Repeat("cd", 32)
	after.CleanAccuracy = 0.88
	for _, res := range after.Results {
		res.Accuracy += 0.2
		for i := range res.PerClass {
			res.PerClass[i].Accuracy = min(1, res.PerClass[i].Accuracy+0.2)
		}
	}
	after.Results = append(after.Results, &fgsm.Result{Config: fgsm.Config{Method: fgsm.BIM, Eps: 0.1, Steps: 10, Alpha: 0.01}, Accuracy: 0.5})
	after.Warnings = nil
	c, err := fgsm.Compare(before, after)
	if err != nil {
		t.Fatal(err)
	}
	c.Export = &fgsm.ExportCheck{File: "demo/hardened.onnx", MaxRelativeError: 3e-6, Tolerance: 1e-4}
	return c
}

func TestCompareFormats(t *testing.T) {
	c := testComparison(t)
	var text, md, page bytes.Buffer
	for _, f := range []func() error{
		func() error { return CompareText(&text, c) },
		func() error { return CompareMarkdown(&md, c) },
		func() error { return CompareHTML(&page, c) },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	for _, test := range []struct {
		format, got string
		want        []string
	}{
		{"text", text.String(), []string{
			"before   testdata/models/fmnist_cnn.onnx (sha256 abababababab…)",
			"after    demo/hardened.onnx",
			"clean                                           92.00%    88.00%   -4.00 pp",
			"pgd ε=0.3 (10×0.075, random start)              12.00%    32.00%  +20.00 pp",
			"bim ε=0.1 (10×0.01)                                  –    50.00%          –",
			"worst                                           12.00%    32.00%  +20.00 pp",
			"matches the interpreter within 3e-06",
		}},
		{"markdown", md.String(), []string{
			"# Robustness of hardened.onnx compared with fmnist_cnn.onnx",
			"| sha256 | abab",
			"| clean | 0 | 92.00% | 88.00% | -4.00 pp |",
			"| fgsm ε=0.05 | 0.05 | 70.00% | 90.00% | +20.00 pp |",
			"| bim ε=0.1 (10×0.01) | 0.1 | – | 50.00% | – |",
			"| 9 Ankle boot | 10 | 20.00% → 20.00% (+0.00 pp) | 0.00% → 20.00% (+20.00 pp) |",
			"## Export check",
			"- before: " + warning,
		}},
		{"html", page.String(), []string{
			"<title>Robustness of hardened.onnx compared with fmnist_cnn.onnx</title>",
			`<td class="num bad">-4.00 pp</td>`,
			`<td class="num good">&#43;20.00 pp</td>`, // html/template escapes +
			"0.00% → 20.00% (&#43;20.00 pp)",
			"before: pgd ε=0.3 (10×0.075, random start)",
			"Export check",
		}},
	} {
		for _, s := range test.want {
			if !strings.Contains(test.got, s) {
				t.Errorf("%s comparison lacks %q:\n%s", test.format, s, test.got)
			}
		}
	}
	if strings.Contains(page.String(), "<script") || strings.Contains(page.String(), "ZgotmplZ") {
		t.Errorf("the comparison page has a script or a refused value")
	}
}

func TestWriteCompareDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "compare")
	c := testComparison(t)
	if err := WriteCompareDir(dir, c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ComparisonFile))
	if err != nil {
		t.Fatal(err)
	}
	var back fgsm.Comparison
	if err := json.Unmarshal(data, &back); err != nil || len(back.Rows) != len(c.Rows) || *back.Clean.After != 0.88 {
		t.Errorf("comparison.json does not round-trip: %v", err)
	}
	for _, name := range []string{MarkdownFile, HTMLFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: want a non-empty file, got %v", name, err)
		}
	}
	if err := WriteCompareDir(dir, nil); err == nil {
		t.Errorf("WriteCompareDir(nil): want an error")
	}
}

// TestCompareInBrowser renders the comparison's report.html with headless
// Chromium.
func TestCompareInBrowser(t *testing.T) {
	dir := t.TempDir()
	if err := WriteCompareDir(dir, testComparison(t)); err != nil {
		t.Fatal(err)
	}
	checkRendered(t, filepath.Join(dir, HTMLFile), []string{"Robustness of hardened.onnx compared with fmnist_cnn.onnx",
		"clean 0 92.00% 88.00% -4.00 pp", "pgd ε=0.3 (10×0.075, random start) 0.3 12.00% 32.00% +20.00 pp"})
}
