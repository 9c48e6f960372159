package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/internal/mutate"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

// runProcess runs this test binary as the onnxguard command (see
// TestMain) and returns its stdout, stderr, exit status, wall time and
// peak resident memory in bytes.
func runProcess(t *testing.T, args ...string) (stdout, stderr string, code int, took time.Duration, rss int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ONNXGUARD_TEST_MAIN=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %v: %v", args, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // kilobytes on Linux
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode(), took, rss
}

// TestMalformedModelsCLI runs inspect, eval on both engines, attack and
// harden on the malformed models of issue 14, each in its own process:
// every one ends with status 1, one line on stderr naming the problem,
// nothing on stdout, within 30 s and 1 GiB.
func TestMalformedModelsCLI(t *testing.T) {
	testort.Need(t)
	src, err := onnx.Load(cnn)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	models := map[string]string{} // file → what the error must mention
	for _, m := range []struct {
		op, attr string
		elem     int
		value    int64
	}{
		{"Conv", "strides", 0, 0}, {"Conv", "strides", 1, -1}, {"Conv", "pads", 0, 1 << 62},
		{"MaxPool", "pads", 0, 1 << 31}, {"MaxPool", "kernel_shape", 0, -1}, {"MaxPool", "kernel_shape", 1, 0},
		{"Conv", "dilations", 0, 0},
	} {
		mu, ok := mutate.Find(src.Proto, m.op, m.attr, m.elem, m.value)
		if !ok {
			t.Fatalf("fmnist_cnn has no %s %s", m.op, m.attr)
		}
		path := filepath.Join(dir, fmt.Sprintf("%s_%s%d_%d.onnx", m.op, m.attr, m.elem, m.value))
		if err := (&onnx.Model{Proto: mu.Apply(src.Proto)}).Save(path); err != nil {
			t.Fatal(err)
		}
		models[path] = m.attr
	}
	huge := filepath.Join(dir, "huge_input.onnx")
	if err := (&onnx.Model{Proto: mutate.InputDims(src.Proto, 1, 1000000, 1000000)}).Save(huge); err != nil {
		t.Fatal(err)
	}
	models[huge] = "" // eval finds the data does not fit before any engine sees the model
	out := filepath.Join(dir, "out")
	for path, want := range models {
		cmds := [][]string{
			{"inspect", "-m", path},
			{"eval", "-m", path, "-d", fashionSlice, "--limit", "8", "--engine", "interp"},
			{"eval", "-m", path, "-d", fashionSlice, "--limit", "8", "--engine", "ort", "--device", "cpu"},
		}
		if want == "strides" || path == huge {
			cmds = append(cmds,
				[]string{"attack", "-m", path, "-d", fashionSlice, "--limit", "8", "--device", "cpu", "--out", out + ".npy"},
				[]string{"harden", "-m", path, "-d", fashionSlice, "--limit", "8", "--eps", "0.1", "--device", "cpu", "--out", out + ".onnx"})
		}
		for _, args := range cmds {
			what := filepath.Base(path) + ": " + args[0] + " " + strings.Join(args[len(args)-2:], " ")
			stdout, stderr, code, took, rss := runProcess(t, args...)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			switch {
			case code != 1:
				t.Errorf("%s: exit status %d, want 1 (stderr %q)", what, code, stderr)
			case stdout != "":
				t.Errorf("%s: wrote %q to stdout", what, stdout)
			case len(lines) != 1 || !strings.HasPrefix(lines[0], "onnxguard: "):
				t.Errorf("%s: stderr is %d lines, want one: %q", what, len(lines), stderr)
			case want != "" && !strings.Contains(stderr, want):
				t.Errorf("%s: %q does not name %s", what, stderr, want)
			case strings.Contains(stderr, "memory budget") && !strings.Contains(stderr, "--max-memory raises the budget"):
				t.Errorf("%s: %q does not say that --max-memory raises the budget", what, stderr)
			}
			t.Logf("%s: %v %dMiB %s", what, took.Round(time.Millisecond), rss>>20, strings.TrimSpace(stderr))
			if took > 30*time.Second || rss > 1<<30 {
				t.Errorf("%s: took %v and %d MiB, want under 30 s and 1 GiB", what, took.Round(time.Millisecond), rss>>20)
			}
			if _, err := os.Stat(out + ".onnx"); err == nil {
				t.Errorf("%s: wrote an output model", what)
			}
		}
	}
	t.Logf("checked %d models", len(models))
}

// TestMaxMemoryFlag checks --max-memory: a budget too small for the model
// refuses it on both engines and in inspect, naming the budget; a bad size
// is a one-line error naming the flag.
func TestMaxMemoryFlag(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "-m", cnn, "--max-memory", "64KiB"}, "memory budget of 64 KiB"},
		{[]string{"eval", "-m", cnn, "-d", fashionSlice, "--limit", "8", "--engine", "interp", "--max-memory", "100KB"}, "memory budget"},
		{[]string{"eval", "-m", cnn, "-d", fashionSlice, "--limit", "8", "--engine", "ort", "--device", "cpu", "--max-memory", "100KB"}, "memory budget"},
		{[]string{"inspect", "-m", cnn, "--max-memory", "lots"}, "--max-memory"},
		{[]string{"inspect", "-m", cnn, "--max-memory", "-5G"}, "--max-memory"},
		{[]string{"inspect", "-m", cnn, "--max-memory", "NaN"}, "--max-memory"},
		{[]string{"inspect", "-m", cnn, "--max-memory", "0"}, "--max-memory"},
	} {
		stdout, stderr, err := run(test.args...)
		if err == nil || !strings.Contains(err.Error(), test.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: got %v (stdout %q, stderr %q), want a one-line error containing %q", test.args, err, stdout, stderr, test.want)
		}
	}
	if _, _, err := run("inspect", "-m", cnn, "--max-memory", "1GiB"); err != nil {
		t.Errorf("inspect with a 1 GiB budget: %v", err)
	}
}

func TestParseBytes(t *testing.T) {
	for _, test := range []struct {
		in   string
		want int64
	}{
		{"1", 1}, {"1024", 1024}, {"512MiB", 512 << 20}, {"16GiB", 16 << 30}, {"2G", 2 << 30},
		{"1.5k", 1536}, {"3GB", 3e9}, {"1 TiB", 1 << 40}, {" 10mb ", 10e6},
		{"", -1}, {"GiB", -1}, {"0", -1}, {"-1G", -1}, {"NaN", -1}, {"Inf", -1}, {"1e400", -1}, {"5 parsecs", -1}, {"9000000TiB", -1},
	} {
		got, err := parseBytes(test.in)
		if test.want < 0 && err == nil || test.want >= 0 && (err != nil || got != test.want) {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", test.in, got, err, test.want)
		}
	}
}

// TestExternalDataSymlinkCLI gives every engine a model whose weights.bin
// is a symbolic link to a file outside its folder: inspect, eval on both
// engines and harden refuse it in one line saying so, and harden writes
// nothing.
func TestExternalDataSymlinkCLI(t *testing.T) {
	testort.Need(t)
	src, err := onnx.Load(cnn)
	if err != nil {
		t.Fatal(err)
	}
	mp, blob := mutate.ExternalData(src.Proto, "weights.bin")
	dir, elsewhere := t.TempDir(), t.TempDir()
	model := filepath.Join(dir, "model.onnx")
	if err := (&onnx.Model{Proto: mp}).Save(model); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(elsewhere, "weights.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "weights.bin"), filepath.Join(dir, "weights.bin")); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	out := filepath.Join(t.TempDir(), "hardened.onnx")
	for _, args := range [][]string{
		{"inspect", "-m", model},
		{"eval", "-m", model, "-d", fashionSlice, "--limit", "8", "--engine", "interp"},
		{"eval", "-m", model, "-d", fashionSlice, "--limit", "8", "--engine", "ort", "--device", "cpu"},
		{"harden", "-m", model, "-d", fashionSlice, "--limit", "8", "--eps", "0.1", "--device", "cpu", "--out", out},
	} {
		stdout, _, err := run(args...)
		if err == nil || !errors.Is(err, onnx.ErrOutsideFolder) || strings.Contains(err.Error(), "\n") || stdout != "" {
			t.Errorf("%s --engine %s: got %v (stdout %q), want one line wrapping onnx.ErrOutsideFolder", args[0], args[len(args)-1], err, stdout)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("harden wrote a model from data outside the folder")
	}
}
