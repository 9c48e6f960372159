package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
)

// aaArgs audits 40 samples with PGD and AutoAttack's gradient stages at
// ε = 0.1, few iterations.
func aaArgs(t *testing.T, dir string, extra ...string) []string {
	t.Helper()
	npy, labels := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if _, err := os.Stat(npy); err != nil {
		x, ys := testfiles.FashionSlice(t, 40)
		writeSamples(t, npy, labels, x, ys)
	}
	return append([]string{"audit", "-m", cnn, "-d", npy, "-l", labels, "--eps", "0.1", "--attacks", "pgd,apgd-ce,apgd-t",
		"--aa-iters", "10", "--device", "cpu", "--batch", "10", "--seed", "3"}, extra...)
}

// figures is a report without what changes between identical runs: the
// shards and the stages' times; sums of distances, which shards add in
// another order, are rounded.
func figures(t *testing.T, path string) string {
	t.Helper()
	r, err := readReport(path)
	if err != nil {
		t.Fatal(err)
	}
	r.Shards = nil
	round := func(v *float64) { *v = math.Round(*v*1e9) / 1e9 }
	for _, res := range r.Results {
		for _, v := range []*float64{&res.LinfSum, &res.L2Sum, &res.LinfMean, &res.L2Mean} {
			round(v)
		}
	}
	for _, e := range r.Ensembles {
		for i := range e.PerStage {
			e.PerStage[i].Seconds = 0
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestAutoAttackAudit runs the APGD stages in an audit: the table shows
// the accuracy after each stage, stderr the progress, the ensemble is at
// least as strong as PGD, and two shards merge into one run's report.
func TestAutoAttackAudit(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	out, stderr, err := run(aaArgs(t, dir, "--report", whole)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"apgd-ce linf ε=0.1", "after apgd-t", "worst case", "worst-case accuracy over every attack"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "apgd-t linf ε=0.1: apgd-t broke") {
		t.Errorf("no progress per stage on stderr:\n%s", stderr)
	}
	r, err := readReport(whole)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ensembles) != 2 || len(r.Results) != 1 {
		t.Fatalf("%d ensembles and %d attacks in report.json", len(r.Ensembles), len(r.Results))
	}
	for _, e := range r.Ensembles {
		if e.Correct > r.Results[0].Correct || e.LinfMax > 0.1+1e-6 || len(e.Broken) != e.Samples-e.Correct {
			t.Errorf("%s: %d robust (PGD %d), L∞ max %g, %d listed broken of %d samples", e.Label(), e.Correct, r.Results[0].Correct, e.LinfMax, len(e.Broken), e.Samples)
		}
	}
	if _, err := os.Stat(filepath.Join(whole, stateFile)); err == nil {
		t.Errorf("%s remains after the report was written", stateFile)
	}
	var parts []string
	for _, k := range []string{"1/2", "2/2"} {
		p := filepath.Join(dir, "shard"+k[:1])
		if _, stderr, err := run(aaArgs(t, dir, "--shard", k, "--report", p)...); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		parts = append(parts, p)
	}
	merged := filepath.Join(dir, "merged")
	if _, _, err := run(append([]string{"report", "merge", "--out", merged}, parts...)...); err != nil {
		t.Fatal(err)
	}
	if g, w := figures(t, merged), figures(t, whole); g != w {
		t.Errorf("the merged shards differ from one run:\n got %s\nwant %s", g, w)
	}
	for _, test := range []struct {
		args []string
		want string
	}{
		{aaArgs(t, dir, "--norm", "l2"), "pgd are L∞ attacks"},
		{aaArgs(t, dir, "--norm", "l3"), "--norm"},
		{aaArgs(t, dir, "--resume"), "--resume needs --report"},
		{aaArgs(t, dir, "--attacks", "apgd-x"), "apgd-ce"},
	} {
		if _, _, err := run(test.args...); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%v: error %v, want one containing %q", test.args[len(test.args)-2:], err, test.want)
		}
	}
}

// TestAutoAttackKillAndResume kills an audit once it has saved a batch,
// resumes it, and gets the report of a run never interrupted.
func TestAutoAttackKillAndResume(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	whole, killed := filepath.Join(dir, "whole"), filepath.Join(dir, "killed")
	if _, stderr, err := run(aaArgs(t, dir, "--report", whole)...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	cmd := exec.Command(os.Args[0], aaArgs(t, dir, "--report", killed)...)
	cmd.Env = append(os.Environ(), "ONNXGUARD_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	state := filepath.Join(killed, stateFile)
	deadline := time.After(2 * time.Minute)
	for exited := false; !exited; {
		select {
		case <-done:
			exited = true
			t.Log("the audit ended before it could be killed")
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("no batch saved within 2 minutes")
		case <-time.After(10 * time.Millisecond):
			if data, err := os.ReadFile(state); err == nil && strings.Count(string(data), "\n") >= 2 {
				cmd.Process.Kill()
				<-done
				exited = true
				data, _ = os.ReadFile(state)
				t.Logf("killed with %d batches saved", strings.Count(string(data), "\n")-1)
			}
		}
	}
	_, stderr, err := run(aaArgs(t, dir, "--report", killed, "--resume")...)
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "resuming:") {
		t.Errorf("the resumed audit did not say what it skipped:\n%s", stderr)
	}
	if g, w := figures(t, killed), figures(t, whole); g != w {
		t.Errorf("the killed and resumed audit differs from one run:\n got %s\nwant %s", g, w)
	}
	if _, _, err := run(aaArgs(t, dir, "--report", killed, "--resume", "--seed", "4")...); err != nil {
		t.Errorf("resuming without a state file should start afresh: %v", err)
	}
}

// blackBoxModel is a Fashion-MNIST classifier whose matrix product is the
// contrib operator com.microsoft.FusedMatMul: ONNX Runtime runs it, the
// interpreter, which runs the standard domain only, refuses it
// (testdata/make_blackbox_model.py).
func blackBoxModel(t *testing.T) string {
	t.Helper()
	return testfiles.Path("models", "fmnist_fusedmatmul.onnx")
}

// TestBlackBoxOnly audits a model the interpreter refuses: inspect says
// only the black-box audit applies, gradient attacks are refused, and
// Square (where this build has it) runs on ONNX Runtime alone.
func TestBlackBoxOnly(t *testing.T) {
	testort.Need(t)
	model := blackBoxModel(t)
	out, _, err := run("inspect", "-m", model)
	if err != nil || !strings.Contains(out, "black-box only") {
		t.Errorf("inspect: %v\n%s", err, out)
	}
	base := []string{"audit", "-m", model, "-d", fashionSlice, "--limit", "20", "--eps", "0.1", "--device", "cpu", "--aa-iters", "50"}
	if _, _, err := run(append(base, "--attacks", "apgd-ce")...); err == nil || !strings.Contains(err.Error(), "interpreter") {
		t.Errorf("a gradient attack on a model the interpreter refuses: %v", err)
	}
	out, stderr, err := run(append(base, "--attacks", "square", "--json")...)
	if _, serr := fgsm.Stage("square"); serr != nil {
		if err == nil || !strings.Contains(err.Error(), `"square"`) {
			t.Errorf("square without its stage in the build: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "black-box only") {
		t.Errorf("no black-box only line:\n%s", stderr)
	}
	var r fgsm.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Ensembles) != 1 || !r.Checks.BlackBox {
		t.Errorf("report %s: %v", out, err)
	}
}

// TestReadState checks that a state file of another audit is refused and
// that a batch cut short by the interruption is dropped.
func TestReadState(t *testing.T) {
	path := filepath.Join(t.TempDir(), stateFile)
	if done, err := readState(path, "key"); err != nil || done != nil {
		t.Errorf("a missing state file: %v, %v", done, err)
	}
	batch := `{"version":2,"samples":3,"shards":[{"index":0,"of":0,"start":0,"end":3}]}`
	if err := os.WriteFile(path, []byte("key\n"+batch+"\n"+batch[:20]), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := readState(path, "key")
	if err != nil || len(done) != 1 || done[0].Samples != 3 {
		t.Errorf("read %d batches (%v), want the one whole batch", len(done), err)
	}
	if _, err := readState(path, "other"); err == nil || !strings.Contains(err.Error(), "another audit") {
		t.Errorf("a state file of another audit: %v", err)
	}
}
