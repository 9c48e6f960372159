package main

import (
	"encoding/json"
	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/internal/testort"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// TestHardenExport hardens the Fashion-MNIST CNN briefly, checks the
// before/after figures and the exported file, then exports the checkpoint
// again and gets the same weights.
func TestHardenExport(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "hardened.onnx")
	stdout, stderr, err := run("harden", "-m", cnn, "-d", fashionSlice, "--limit", "400", "--val-split", "0.25",
		"--recipe", "paper", "--eps", "0.1", "--epochs", "1", "--batch", "32", "--out", out, "--device", "cpu", "--json",
		"--probe-steps", "5", "--autoattack", "apgd-ce", "--autoattack-iters", "10")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got struct {
		Before, After struct {
			Clean float64 `json:"clean_accuracy"`
			FGSM  float64 `json:"fgsm_accuracy"`
			PGD   float64 `json:"pgd_accuracy"`
			AA    struct {
				Accuracy float64 `json:"accuracy"`
				Stages   []struct {
					Name string `json:"name"`
				} `json:"stages"`
			} `json:"autoattack"`
		}
		BestEpoch   int     `json:"best_epoch"`
		MaxRelError float64 `json:"export_max_relative_error"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	t.Logf("before %+v, after %+v, export error %g", got.Before, got.After, got.MaxRelError)
	if got.After.FGSM <= got.Before.FGSM || got.MaxRelError > export.DefaultTolerance || got.BestEpoch != 1 {
		t.Errorf("hardening did not raise FGSM accuracy (%g → %g), or the export check failed (%g), or best epoch %d",
			got.Before.FGSM, got.After.FGSM, got.MaxRelError, got.BestEpoch)
	}
	if a := got.After.AA; len(a.Stages) != 1 || a.Stages[0].Name != "apgd-ce" || a.Accuracy > got.After.PGD+0.05 {
		t.Errorf("after: AutoAttack %+v; want APGD-CE's accuracy, not above PGD's %g by much", a, got.After.PGD)
	}
	hardened, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, p := range hardened.Proto.GetMetadataProps() {
		meta[p.GetKey()] = p.GetValue()
	}
	for _, k := range []string{"onnxguard.recipe", "onnxguard.eps", "onnxguard.epochs", "onnxguard.source_sha256", "onnxguard.version"} {
		if meta[k] == "" {
			t.Errorf("the exported model lacks metadata %s: %v", k, meta)
		}
	}
	if meta["onnxguard.recipe"] != "paper" || meta["onnxguard.eps"] != "0.1" {
		t.Errorf("metadata %v", meta)
	}
	for _, f := range []string{"checkpoint.gob", "history.json"} {
		if _, err := os.Stat(filepath.Join(out+".checkpoints", f)); err != nil {
			t.Errorf("no %s beside the output: %v", f, err)
		}
	}

	again := filepath.Join(dir, "again.onnx")
	if _, _, err := run("export", "--checkpoint", out+".checkpoints", "-m", cnn, "--out", again, "--device", "cpu"); err != nil {
		t.Fatal(err)
	}
	a, b := initializers(t, out), initializers(t, again)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d initializers", len(a), len(b))
	}
	for name, v := range a {
		if !slices.Equal(v, b[name]) {
			t.Errorf("initializer %s differs between harden's output and export's", name)
		}
	}
	_, _, err = run("harden", "-m", cnn, "-d", fashionSlice, "--limit", "100", "--epochs", "1", "--out", out, "--device", "cpu", "--autoattack", "none")
	if err == nil || !strings.Contains(err.Error(), "already holds a run's checkpoint") {
		t.Errorf("hardening into a folder with a checkpoint: %v", err)
	}
	_, _, err = run("export", "--checkpoint", out+".checkpoints", "-m", cnnRaw255, "--out", again)
	if err == nil || !strings.Contains(err.Error(), "trained from a model") {
		t.Errorf("exporting a checkpoint onto another model: %v", err)
	}
}

func initializers(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for _, tp := range m.Proto.GetGraph().GetInitializer() {
		v, err := onnx.DecodeTensor(tp, filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		out[tp.GetName()] = v.Float
	}
	return out
}

func TestHardenErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.onnx")
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--recipe", "mixup", "--out", out}, "unknown recipe"},
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--eps", "3", "--out", out}, "eps 3"},
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--bn", "off", "--out", out}, "BatchNorm policy"},
		{[]string{"harden", "-m", cnnRaw255, "-d", fashionSlice, "--limit", "50", "--out", out, "--engine", "interp"}, "fixed batch"},
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--val-split", "1", "--out", out}, "--val-split"},
		{[]string{"export", "--checkpoint", cnn, "-m", cnn, "--out", out}, "not a checkpoint"},
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--recipe", "trades", "--beta", "-1", "--out", out}, "beta -1"},
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--recipe", "pgd", "--probe", "fab", "--out", out}, "unknown probe"},
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--recipe", "mart", "--awp", "--out", out}, "AWP runs on top of"},
		{[]string{"harden", "-m", cnn, "-d", fashionSlice, "--limit", "50", "--autoattack", "deepfool", "--out", out, "--device", "cpu"}, "--autoattack"},
	} {
		_, _, err := run(test.args...)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%v: error %v, want one containing %q", test.args, err, test.want)
		}
	}
}

// TestHardenSurrogateRecipes runs trades and mart through the command: the
// export must pass the ONNX Runtime check, and the skipped AutoAttack audit
// must say so.
func TestHardenSurrogateRecipes(t *testing.T) {
	testort.Need(t)
	for _, recipe := range []string{"trades", "mart"} {
		out := filepath.Join(t.TempDir(), recipe+".onnx")
		stdout, stderr, err := run("harden", "-m", cnn, "-d", fashionSlice, "--limit", "160", "--val-split", "0.25",
			"--recipe", recipe, "--eps", "0.1", "--epochs", "1", "--batch", "32", "--pgd-steps", "2", "--probe-steps", "3",
			"--probe-targets", "1", "--autoattack", "none", "--out", out, "--device", "cpu")
		if err != nil {
			t.Fatalf("%s: %v\n%s", recipe, err, stderr)
		}
		for _, want := range []string{"export checked on ONNX Runtime", "AutoAttack skipped (--autoattack none)", "recipe " + recipe} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: the output lacks %q:\n%s", recipe, want, stdout)
			}
		}
		if !strings.Contains(stderr, "val APGD-CE+T") {
			t.Errorf("%s: the epoch lines lack the probe's accuracy:\n%s", recipe, stderr)
		}
	}
}
