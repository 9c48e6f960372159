package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
)

// TestCleanCheckOutput audits and attacks 16 images with each gradient
// engine and checks that the JSON (clean_logits) and the text (the clean
// check line) name the engine whose clean logits were compared with ONNX
// Runtime's: the graph's from the first FGSM pass, where the text says it
// is ONNX Runtime against ONNX Runtime; the interpreter's with the
// interpreter, or with --cross-check.
func TestCleanCheckOutput(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		flags []string
		clean string
		says  string // in the text's clean check
	}{
		{[]string{"--grad-engine", "interp"}, "interpreter", "0 of 16 clean samples classified differently by the interpreter and onnxruntime/cpu"},
		{[]string{"--grad-engine", "ort"}, "onnxruntime-graph/cpu",
			"by the gradient graph on ONNX Runtime (cpu) and onnxruntime/cpu: two ONNX Runtime sessions on cpu (the gradient graph and the deployed model)"},
		{[]string{"--grad-engine", "ort", "--cross-check"}, "interpreter", "by the interpreter and onnxruntime/cpu"},
	} {
		for _, cmd := range []string{"audit", "attack"} {
			args := append([]string{cmd, "-m", cnn, "-d", fashionSlice, "--limit", "16", "--eps", "0.1", "--device", "cpu"}, test.flags...)
			if cmd == "audit" {
				args = append(args, "--attacks", "fgsm")
			}
			stdout, _, err := run(append(args, "--json")...)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Clean    string `json:"clean_logits"`
				Disagree *int   `json:"clean_disagreement"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%v in %s", err, stdout)
			}
			if got.Clean != test.clean || got.Disagree == nil || *got.Disagree != 0 {
				t.Errorf("%s %v --json: clean_logits %q, clean_disagreement %v; want %q, 0", cmd, test.flags, got.Clean, got.Disagree, test.clean)
			}
			stdout, _, err = run(args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout, test.says) {
				t.Errorf("%s %v: the text does not say %q:\n%s", cmd, test.flags, test.says, stdout)
			}
			if sessions := strings.Contains(stdout, "ONNX Runtime sessions"); sessions != (test.clean != "interpreter") {
				t.Errorf("%s %v: the text says ONNX Runtime against itself: %v, want %v:\n%s", cmd, test.flags, sessions, !sessions, stdout)
			}
		}
	}
}

// TestMergeOldReport merges a shard audited on the gradient graph with one
// whose report.json is as onnxguard wrote it before clean_logits and
// grad_engine: it still reads and merges, and the merged report names both
// engines, the old shard's clean logits being the interpreter's (the only
// gradient engine then).
func TestMergeOldReport(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	base := []string{"audit", "-m", cnn, "-d", fashionSlice, "--limit", "16", "--eps", "0.1", "--attacks", "fgsm", "--device", "cpu"}
	var parts []string
	for i, engine := range []string{"ort", "interp"} {
		p := filepath.Join(dir, engine)
		if _, _, err := run(append(base, "--shard", []string{"1/2", "2/2"}[i], "--grad-engine", engine, "--report", p)...); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	old := filepath.Join(parts[1], "report.json")
	data, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["clean_logits"] != "interpreter" {
		t.Fatalf("the interpreter's shard has clean_logits %v", fields["clean_logits"])
	}
	delete(fields, "clean_logits")
	delete(fields, "grad_engine")
	if data, err = json.Marshal(fields); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(append([]string{"report", "merge", "--json"}, parts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Samples int    `json:"samples"`
		Grads   string `json:"grad_engine"`
		Clean   string `json:"clean_logits"`
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	if m.Samples != 32 || m.Grads != "onnxruntime-graph/cpu" || m.Clean != "onnxruntime-graph/cpu, interpreter" {
		t.Errorf("merged %d samples, grad_engine %q, clean_logits %q; want 32 (--limit per shard), onnxruntime-graph/cpu, \"onnxruntime-graph/cpu, interpreter\"", m.Samples, m.Grads, m.Clean)
	}
	stdout, _, err = run(append([]string{"report", "merge"}, parts...)...)
	if want := "clean check 0 of 32 clean samples classified differently by the gradient engines (onnxruntime-graph/cpu, interpreter, by shard) and onnxruntime/cpu"; err != nil || !strings.Contains(stdout, want) {
		t.Errorf("merged text (err %v) does not say %q:\n%s", err, want, stdout)
	}
}
