package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/gradengine"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// TestAttackMatchesPyTorch is the attack issue's acceptance check: FGSM at
// ε = 0.1 on the PyTorch-trained Fashion-MNIST CNN leaves the same accuracy
// as the same attack computed by PyTorch (testdata/reference.json), on the
// full test set when Debian's dataset-fashion-mnist is installed, with
// each gradient engine: auto (the interpreter on this model where its
// vector kernels run, the graph elsewhere: gradengine.Prefer) and the
// gradient graph on ONNX Runtime, each named in the JSON.
func TestAttackMatchesPyTorch(t *testing.T) {
	testort.Need(t)
	ref := loadReference(t)
	data, key := fashionSlice, "pytorch_fgsm_eps0.1_slice1000_correct"
	if _, err := os.Stat(fashionTest); err == nil {
		data, key = fashionTest, "pytorch_fgsm_eps0.1_correct"
	}
	want := int(ref.CNN[key].(float64))
	m, err := onnx.Load(cnn)
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, interpOptions(interp.Options{})) // as the CLI compiles it
	if err != nil {
		t.Fatal(err)
	}
	auto := map[gradengine.Kind]string{gradengine.Interp: "interpreter", gradengine.ORT: "onnxruntime-graph/cpu"}
	kind, _ := gradengine.Prefer(p)
	for _, tc := range []struct{ engine, name string }{
		{"auto", auto[kind]},
		{"ort", "onnxruntime-graph/cpu"},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			stdout, _, err := run("attack", "-m", cnn, "-d", data, "--eps", "0.1", "--batch", "256", "--device", "cpu",
				"--grad-engine", tc.engine, "--json")
			if err != nil {
				t.Fatal(err)
			}
			got := decodeAttack(t, stdout)
			t.Logf("%s, %s: FGSM ε=0.1 leaves %d of %d correct; PyTorch %d", data, got.GradEngine, got.Correct, got.Samples, want)
			if got.GradEngine != tc.name {
				t.Errorf("grad_engine %q, want %q", got.GradEngine, tc.name)
			}
			if d := got.Correct - want; d < -3 || d > 3 {
				t.Errorf("FGSM ε=0.1 leaves %d correct, PyTorch %d: more than 3 samples apart", got.Correct, want)
			}
			if got.Adversarial != float64(got.Correct)/float64(got.Samples) || got.Disagreement > 0.001 {
				t.Errorf("adversarial accuracy %g for %d/%d, runtime disagreement %g", got.Adversarial, got.Correct, got.Samples, got.Disagreement)
			}
		})
	}
}

// attackOutput is what attack --json prints, as far as the tests read it.
type attackOutput struct {
	GradEngine   string  `json:"grad_engine"`
	Samples      int     `json:"samples"`
	Correct      int     `json:"correct"`
	Clean        float64 `json:"clean_accuracy"`
	Adversarial  float64 `json:"adversarial_accuracy"`
	Disagreement float64 `json:"runtime_disagreement"`
	CrossChecked int     `json:"cross_checked"` // adversarial images the interpreter classified too
}

// decodeAttack reads attack --json's output.
func decodeAttack(t *testing.T, stdout string) attackOutput {
	t.Helper()
	var out attackOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	return out
}

// TestAttackOutputs checks the adversarial .npy and PNGs, and that the
// fixed-batch 0-255 export of the same network gives the same attack.
func TestAttackOutputs(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	out, pngs := filepath.Join(dir, "adv.npy"), filepath.Join(dir, "png")
	stdout, stderr, err := run("attack", "-m", cnn, "-d", fashionSlice, "--limit", "40", "--method", "bim", "--eps", "0.05",
		"--steps", "4", "--out", out, "--png-dir", pngs, "--device", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "clean") || !strings.Contains(stdout, "bim") || !strings.Contains(stderr, "wrote 40 adversarial images") {
		t.Errorf("output lacks the accuracies or the file note:\n%s\n%s", stdout, stderr)
	}
	adv, shape := testfiles.ReadNpy(t, out)
	clean, _ := testfiles.FashionSlice(t, 40)
	if len(shape) != 4 || shape[0] != 40 || shape[1] != 1 || shape[2] != 28 || shape[3] != 28 {
		t.Fatalf("adv.npy has shape %v, want [40 1 28 28]", shape)
	}
	moved := 0
	for i, v := range adv {
		if v < 0 || v > 1 || math.Abs(float64(v-clean[i])) > 0.05+1e-6 {
			t.Fatalf("pixel %d: %g from clean %g, outside [0,1] or the ε-ball", i, v, clean[i])
		}
		if v != clean[i] {
			moved++
		}
	}
	if moved < len(adv)/4 {
		t.Errorf("only %d of %d pixels moved", moved, len(adv))
	}
	if entries, _ := os.ReadDir(pngs); len(entries) != 40 {
		t.Errorf("%d PNGs, want 40", len(entries))
	}

	attack := func(model string, extra ...string) map[string]any {
		args := append([]string{"attack", "-m", model, "-d", fashionSlice, "--limit", "50", "--eps", "0.1", "--json", "--device", "cpu"}, extra...)
		stdout, _, err := run(args...)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(stdout), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := attack(cnn), attack(cnnRaw255, "--input-scale", "255")
	if d := a["correct"].(float64) - b["correct"].(float64); math.Abs(d) > 1 {
		t.Errorf("the fixed-batch 0-255 export leaves %v correct under FGSM, the dynamic one %v", b["correct"], a["correct"])
	}
	tg := attack(cnn, "--method", "pgd", "--target", "0", "--steps", "5")
	if tg["skipped"].(float64) == 0 || tg["eligible"].(float64)+tg["skipped"].(float64) > 50 {
		t.Errorf("targeting class 0 skipped %v samples, %v eligible", tg["skipped"], tg["eligible"])
	}
}

// TestAuditReportAndGate runs an audit, checks report.json's required
// fields and the --fail-under exit status.
func TestAuditReportAndGate(t *testing.T) {
	testort.Need(t)
	dir := filepath.Join(t.TempDir(), "audit")
	args := []string{"audit", "-m", cnn, "-d", fashionSlice, "--limit", "60", "--eps", "0.03,0.1", "--attacks", "fgsm,pgd",
		"--steps", "5", "--device", "cpu", "--report", dir}
	stdout, _, err := run(append(args, "--fail-under", "0.01")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, want := range []string{"clean", "fgsm ε=0.03", "pgd ε=0.1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"report.json", "report.md", "robustness.png", "examples.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("the report folder lacks %s: %v", f, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"model", "samples", "clean_accuracy", "results", "settings", "seed"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("report.json lacks %q", key)
		}
	}
	model := raw["model"].(map[string]any)
	for _, key := range []string{"path", "sha256", "opset", "input_shape"} {
		if _, ok := model[key]; !ok {
			t.Errorf("report.json's model lacks %q", key)
		}
	}
	results := raw["results"].([]any)
	if len(results) != 4 {
		t.Fatalf("%d results, want 4", len(results))
	}
	for _, r := range results {
		for _, key := range []string{"attack", "eps", "accuracy", "success_rate", "runtime_disagreement", "per_class"} {
			if _, ok := r.(map[string]any)[key]; !ok {
				t.Errorf("a result lacks %q", key)
			}
		}
	}
	_, _, err = run(append(args, "--fail-under", "95%")...)
	if exitCode(err) != exitBelowThreshold || !strings.Contains(err.Error(), "below --fail-under 95.00%") {
		t.Errorf("a gate of 95%%: exit %d, %v; want %d", exitCode(err), err, exitBelowThreshold)
	}
}

// TestShardsMerge audits three shards and merges them into what one run
// gives.
func TestShardsMerge(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	npy := filepath.Join(dir, "x.npy")
	x, labels := testfiles.FashionSlice(t, 45)
	writeSamples(t, npy, filepath.Join(dir, "y.npy"), x, labels)
	base := []string{"audit", "-m", cnn, "-d", npy, "-l", filepath.Join(dir, "y.npy"), "--eps", "0.05", "--attacks", "fgsm,pgd",
		"--steps", "3", "--device", "cpu", "--batch", "8"}
	whole := filepath.Join(dir, "whole")
	if _, _, err := run(append(base, "--report", whole)...); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, k := range []string{"1/3", "2/3", "3/3"} {
		p := filepath.Join(dir, "shard"+k[:1])
		if _, _, err := run(append(base, "--shard", k, "--report", p)...); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	merged := filepath.Join(dir, "merged")
	if _, _, err := run(append([]string{"report", "merge", "--out", merged}, parts...)...); err != nil {
		t.Fatal(err)
	}
	w, err := readReport(whole)
	if err != nil {
		t.Fatal(err)
	}
	m, err := readReport(merged)
	if err != nil {
		t.Fatal(err)
	}
	if m.Samples != w.Samples || m.CleanCorrect != w.CleanCorrect {
		t.Fatalf("merged %d samples, %d correct; one run %d, %d", m.Samples, m.CleanCorrect, w.Samples, w.CleanCorrect)
	}
	for i, res := range w.Results {
		got := m.Results[i]
		if got.Correct != res.Correct || got.Successes != res.Successes || got.LinfMax != res.LinfMax {
			t.Errorf("%s: merged %d correct, %d successes; one run %d, %d", res.Name(), got.Correct, got.Successes, res.Correct, res.Successes)
		}
	}
	if _, _, err := run("report", "merge", parts[0], parts[0]); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("merging a shard twice: %v", err)
	}
}

// writeSamples saves images and int64 labels as .npy files.
func writeSamples(t *testing.T, images, labelsPath string, x []float32, labels []int) {
	t.Helper()
	if err := dataset.WriteNpy(images, x, []int{len(labels), 1, 28, 28}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(labelsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ys := make([]int64, len(labels))
	for i, y := range labels {
		ys[i] = int64(y)
	}
	if err := npyio.Write(f, ys); err != nil {
		t.Fatal(err)
	}
}

func TestAttackErrors(t *testing.T) {
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"attack", "-m", cnn, "-d", fashionSlice, "--eps", "2"}, "--eps 2: want a finite number in (0, 1]"},
		{[]string{"attack", "-m", cnn, "-d", fashionSlice, "--method", "cw"}, "unknown attack"},
		{[]string{"attack", "-m", cnn, "-d", fashionSlice, "--steps", "5"}, "fgsm is a single step"},
		{[]string{"attack", "-m", cnn, "-d", fashionSlice, "--target", "cat"}, "--target"},
		{[]string{"attack", "-m", cnn, "-d", fashionSlice, "--shard", "0/3"}, "--shard"},
		{[]string{"attack", "-m", cnn, "-d", fashionSlice, "--engine", "interp", "--target", "12"}, "target class 12"},
		{[]string{"audit", "-m", cnn, "-d", fashionSlice, "--fail-under", "150"}, "--fail-under"},
		{[]string{"audit", "-m", cnn, "-d", fashionSlice, "--attacks", "fgsm,zoo"}, "unknown attack"},
		{[]string{"audit", "-m", cnn, "-d", fashionSlice, "--eps", "0.1,x"}, "--eps"},
		{[]string{"report", "merge"}, "name the shard reports"},
		{[]string{"report", "merge", cnn}, "not an onnxguard report"},
	} {
		_, _, err := run(test.args...)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%v: error %v, want one containing %q", test.args, err, test.want)
		}
	}
}
