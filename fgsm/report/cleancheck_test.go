package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestCleanCheckFormats checks that report.md and report.html name the
// engine whose clean logits the audit compared with the runtime's, for
// each gradient engine and for a report from before that was recorded.
func TestCleanCheckFormats(t *testing.T) {
	for _, test := range []struct {
		grads, clean string
		says         string
	}{
		{"interpreter", "interpreter", "1 of 100 clean samples classified differently by the interpreter and onnxruntime/cpu"},
		{"onnxruntime-graph/cpu", "onnxruntime-graph/cpu", "1 of 100 clean samples classified differently by the gradient graph on ONNX Runtime (cpu) and onnxruntime/cpu: two ONNX Runtime sessions on cpu (the gradient graph and the deployed model)"},
		{"onnxruntime-graph/cpu", "interpreter", "1 of 100 clean samples classified differently by the interpreter and onnxruntime/cpu"},
		{"onnxruntime-graph/cpu", "", "1 of 100 clean samples classified differently by the gradient engine (not recorded) and onnxruntime/cpu"},
	} {
		r := testReport()
		r.Runtime, r.GradEngine, r.CleanLogits = "onnxruntime/cpu", test.grads, test.clean
		var md, page bytes.Buffer
		if err := Markdown(&md, r); err != nil {
			t.Fatal(err)
		}
		if err := HTML(&page, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md.String(), "- **Clean check:** "+test.says) {
			t.Errorf("%s/%s: report.md lacks the clean check %q", test.grads, test.clean, test.says)
		}
		if !strings.Contains(page.String(), test.says) {
			t.Errorf("%s/%s: report.html lacks the clean check %q", test.grads, test.clean, test.says)
		}
		if strings.Contains(md.String(), "interpreter that computed the gradients") {
			t.Errorf("%s/%s: report.md says the interpreter computed the gradients", test.grads, test.clean)
		}
	}
}
