package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
)

// TestHTML checks that report.html holds the figures, says what each
// warning means, and is self-contained: no scripts, nothing fetched.
func TestHTML(t *testing.T) {
	r := testReport()
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	want := []string{
		"<title>Robustness audit of fmnist_cnn.onnx</title>",
		r.Model.SHA256, "opset", "?×1×28×28", "− mean [0.5], ÷ std [0.5]", "onnxruntime",
		"<dt>seed</dt><dd>42</dd>",
		"92.00%", "0 T-shirt/top", "9 Ankle boot",
		warning, "What it means: at this budget",
		`<img src="data:image/png;base64,`,
		"@media print", "@media (max-width",
	}
	for _, res := range r.Results {
		want = append(want, res.Name(), fmt.Sprintf("%.2f%%", 100*res.Accuracy))
	}
	for _, s := range want {
		if !strings.Contains(page, s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	if n := strings.Count(page, `src="data:image/png;base64,`); n != 2 {
		t.Errorf("report.html embeds %d images, want 2 (robustness curve, examples)", n)
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script`),
		regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`),
		regexp.MustCompile(`(?i)@import|url\(`),
		regexp.MustCompile(`ZgotmplZ`), // html/template's mark of a value it refused
	} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("report.html is not self-contained: %q at byte %d", page[loc[0]:min(len(page), loc[1]+40)], loc[0])
		}
	}
	// The strongest attack's bars: pgd ε=0.3 leaves class 1 at 20%.
	if !strings.Contains(page, `<i style="width: 20.0%"></i><b>20.00%</b>`) {
		t.Errorf("report.html lacks the per-class bar of class 1 under pgd ε=0.3 (20%%)")
	}

	r.Warnings, r.Examples = nil, nil
	buf.Reset()
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "None: no sign of gradient masking") || !strings.Contains(s, "kept no example images") {
		t.Errorf("report.html without warnings or examples should say so")
	}
}

func TestWarningMeaning(t *testing.T) {
	for _, test := range []struct{ warning, want string }{
		{"pgd ε=0.1 (10×0.025) leaves accuracy at 40.00%, above FGSM's 30.00% at the same ε: …", "many-step attack"},
		{"pgd: accuracy rises from 10.00% at ε=0.03 to 20.00% at ε=0.1; …", "can only fall"},
		{"fgsm ε=0.1 leaves accuracy at 95.00%, above the clean 90.00%: …", "not attacking"},
		{warning, "almost beyond recognition"},
		{"the interpreter and onnxruntime/cpu disagree on 9 of 100 clean samples; …", "same function"},
		{"something new", "check the setup"},
	} {
		if got := warningMeaning(test.warning); !strings.Contains(got, test.want) {
			t.Errorf("warning %q: meaning %q, want one saying %q", test.warning, got, test.want)
		}
	}
}

// TestHTMLEnsemble checks that an AutoAttack result shows its cascade,
// stage by stage, and the quantiles of FAB's smallest perturbations.
func TestHTMLEnsemble(t *testing.T) {
	r := testReport()
	r.Ensembles = []*fgsm.EnsembleResult{{
		Ensemble: fgsm.Ensemble{Name: "autoattack", Norm: fgsm.Linf, Eps: 0.1},
		Samples:  100, Correct: 41, Accuracy: 0.41,
		PerStage: []fgsm.StageOutcome{
			{Name: "apgd-ce", Attacked: 92, Broken: 47, Robust: 45, Accuracy: 0.45, Seconds: 4.1},
			{Name: "apgd-t", Attacked: 45, Broken: 4, Robust: 41, Accuracy: 0.41, Seconds: 23.3},
		},
		MinNormSamples: 41,
		MinLinf:        &fgsm.NormSummary{Found: 41, Median: 0.1204, Quantiles: []float64{0.1069, 0.11, 0.1204, 0.13, 0.1467}},
	}}
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, s := range []string{"AutoAttack: autoattack linf ε=0.1", "apgd-ce", "45.00%", "23.3", "41.00%",
		"Smallest adversarial perturbations found", "0.1069", "0.1204", "0.1467", "100.00% (41/41)"} {
		if !strings.Contains(page, s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
}
