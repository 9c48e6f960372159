package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// TestGradEngineFlagErrors: a --grad-engine that is none of auto, interp
// and ort is one line naming the flag, on every command that has it.
func TestGradEngineFlagErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "h.onnx")
	for _, args := range [][]string{
		{"attack", "-m", cnn, "-d", fashionSlice, "--grad-engine", "gpu"},
		{"audit", "-m", cnn, "-d", fashionSlice, "--grad-engine", "gpu"},
		{"harden", "-m", cnn, "-d", fashionSlice, "--eps", "0.1", "--out", out, "--grad-engine", "gpu"},
	} {
		_, _, err := run(args...)
		if err == nil || !strings.Contains(err.Error(), `--grad-engine "gpu"`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming --grad-engine \"gpu\"", args[0], err)
		}
	}
}

// autoGrads is what --grad-engine auto gives on the Fashion-MNIST CNN: the
// interpreter where its vector kernels run every convolution.
func autoGrads() string {
	if ops.Kernels() == "avx512f" {
		return "interpreter"
	}
	return "onnxruntime-graph/cpu"
}

// TestAttackGradEngines runs FGSM at ε = 0.1 on 1000 Fashion-MNIST images
// with each --grad-engine. The graph's gradients differ from the
// interpreter's by float rounding (ONNX Runtime sums in other orders, up
// to 1e-4 relative), which can flip the sign of a near-zero component,
// and so a pixel of a sample at a decision boundary: the accuracies may
// differ by a sample or two, not more. Each run names its engine, in its
// JSON and in its text.
func TestAttackGradEngines(t *testing.T) {
	testort.Need(t)
	auto := autoGrads()
	correct := map[string]int{}
	for _, test := range []struct{ flag, want string }{
		{"interp", "interpreter"}, {"ort", "onnxruntime-graph/cpu"}, {"auto", auto},
	} {
		stdout, _, err := run("attack", "-m", cnn, "-d", fashionSlice, "--eps", "0.1", "--batch", "256", "--device", "cpu", "--json", "--grad-engine", test.flag)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			GradEngine string `json:"grad_engine"`
			Correct    int    `json:"correct"`
			Samples    int    `json:"samples"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v in %s", err, stdout)
		}
		if got.GradEngine != test.want || got.Samples != 1000 {
			t.Errorf("--grad-engine %s: grad_engine %q on %d samples, want %q on 1000", test.flag, got.GradEngine, got.Samples, test.want)
		}
		correct[test.flag] = got.Correct
	}
	t.Logf("FGSM ε=0.1 leaves correct: %v", correct)
	if d := correct["ort"] - correct["interp"]; d < -2 || d > 2 {
		t.Errorf("FGSM leaves %d correct with the graph's gradients, %d with the interpreter's: more than 2 apart", correct["ort"], correct["interp"])
	}
	stdout, _, err := run("attack", "-m", cnn, "-d", fashionSlice, "--limit", "8", "--device", "cpu", "--grad-engine", "ort")
	if err != nil || !strings.Contains(stdout, "gradients onnxruntime graph (cpu)") {
		t.Errorf("text output does not name the graph (err %v):\n%s", err, stdout)
	}
}

// TestAuditMixesEngines: with the graph for cross-entropy, APGD-DLR's
// margin loss still runs (on the interpreter), and the report names the
// graph.
func TestAuditMixesEngines(t *testing.T) {
	testort.Need(t)
	stdout, _, err := run("audit", "-m", cnn, "-d", fashionSlice, "--limit", "16", "--eps", "0.1", "--attacks", "fgsm,apgd-dlr",
		"--steps", "5", "--device", "cpu", "--json", "--grad-engine", "ort")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		GradEngine string            `json:"grad_engine"`
		Results    []json.RawMessage `json:"results"`
		Ensembles  []json.RawMessage `json:"ensembles"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	if r.GradEngine != "onnxruntime-graph/cpu" || len(r.Results)+len(r.Ensembles) != 2 {
		t.Errorf("grad_engine %q, %d results and %d ensembles; want the graph, FGSM and APGD-DLR", r.GradEngine, len(r.Results), len(r.Ensembles))
	}
}

// TestHardenMeasures: harden measures both models and trains with the
// gradients of the engine --grad-engine chooses (fmnist_cnn has no
// BatchNorm or Dropout, so its training passes go to the graph too) and
// names it in its JSON.
func TestHardenMeasures(t *testing.T) {
	testort.Need(t)
	// TRADES's loss is the interpreter's alone: its training passes stay there.
	for _, test := range []struct{ flag, recipe, want, train string }{
		{"ort", "paper", "onnxruntime-graph/cpu", "onnxruntime-graph/cpu"},
		{"auto", "paper", autoGrads(), autoGrads()},
		{"ort", "trades", "onnxruntime-graph/cpu", "interpreter"},
	} {
		out := filepath.Join(t.TempDir(), "hardened.onnx")
		stdout, stderr, err := run("harden", "-m", cnn, "-d", fashionSlice, "--limit", "200", "--val-split", "0.25", "--recipe", test.recipe,
			"--eps", "0.1", "--epochs", "1", "--batch", "32", "--out", out, "--device", "cpu", "--autoattack", "none",
			"--probe", "pgd", "--probe-steps", "2", "--grad-engine", test.flag, "--json")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		var got struct {
			Before, After struct {
				Grads string `json:"grad_engine"`
			}
			Train string `json:"train_grad_engine"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v in %s", err, stdout)
		}
		if got.Before.Grads != test.want || got.After.Grads != test.want || got.Train != test.train {
			t.Errorf("--grad-engine %s, recipe %s: grad_engine before %q, after %q, training %q; want %q and %q", test.flag, test.recipe,
				got.Before.Grads, got.After.Grads, got.Train, test.want, test.train)
		}
	}
}
