package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/internal/testort"
)

// TestMain lets a test run this binary as the onnxguard command, so that a
// real process can be killed.
func TestMain(m *testing.M) {
	if os.Getenv("ONNXGUARD_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKillAndResume kills a harden process with SIGKILL once it has
// checkpointed an epoch, resumes it, and gets the weights of a run that was
// never interrupted.
func TestKillAndResume(t *testing.T) {
	testort.Need(t)
	for _, recipe := range []string{"paper", "trades"} {
		t.Run(recipe, func(t *testing.T) { killAndResume(t, recipe) })
	}
}

func killAndResume(t *testing.T, recipe string) {
	dir := t.TempDir()
	args := func(out string) []string {
		a := []string{"harden", "-m", cnn, "-d", fashionSlice, "--limit", "400", "--val-split", "0.25", "--recipe", recipe,
			"--eps", "0.1", "--epochs", "4", "--batch", "32", "--seed", "4", "--device", "cpu", "--out", out,
			"--probe-steps", "5", "--probe-targets", "2", "--autoattack", "none"}
		if recipe == "trades" {
			a = append(a, "--pgd-steps", "2", "--beta", "3")
		}
		return a
	}
	whole := filepath.Join(dir, "whole.onnx")
	if _, stderr, err := run(args(whole)...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}

	killed := filepath.Join(dir, "killed.onnx")
	cmd := exec.Command(os.Args[0], args(killed)...)
	cmd.Env = append(os.Environ(), "ONNXGUARD_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	history := filepath.Join(killed+".checkpoints", "history.json")
	deadline := time.After(2 * time.Minute)
	for exited := false; !exited; {
		select {
		case <-done:
			exited = true // finished before it could be killed: resuming must still agree
			t.Log("the run ended before it was killed")
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("no epoch checkpointed within 2 minutes")
		case <-time.After(20 * time.Millisecond):
			if data, err := os.ReadFile(history); err == nil && strings.Contains(string(data), `"epoch": 1,`) {
				cmd.Process.Kill()
				<-done
				exited = true
				data, _ = os.ReadFile(history)
				t.Logf("killed after %d epochs had been checkpointed", strings.Count(string(data), `"epoch":`)-1)
			}
		}
	}
	if _, err := os.Stat(killed); err == nil {
		t.Log("the killed run had already exported")
	}
	if _, stderr, err := run(append(args(killed), "--resume")...); err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr)
	}
	a, b := initializers(t, whole), initializers(t, killed)
	for name, v := range a {
		if !slices.Equal(v, b[name]) {
			t.Errorf("initializer %s differs between the uninterrupted and the killed-and-resumed run", name)
		}
	}
}
