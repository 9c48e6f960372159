package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestFlagHints checks that errors the library reports in its own terms
// reach the command line with the flags that fix them, once.
func TestFlagHints(t *testing.T) {
	unlabelled, err := dataset.FromMemory(make([]float32, 2*4), nil, 2, 1, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := dataset.FromMemory(nil, []int{}, 0, 1, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, readErr := harden.ReadAll(unlabelled)
	_, auditErr := fgsm.Audit(context.Background(), nil, unlabelled, fgsm.AuditOptions{})
	_, awpErr := harden.Config{Recipe: harden.PGD, Eps: 0.1, AWPGamma: 0.1}.Normalize()
	shapeErr := dataset.CheckShape(empty, []int64{-1, 2, 2, 1}, dataset.NCHW)
	_, ortErr := ort.FindLibrary(filepath.Join(t.TempDir(), "nope.so"))
	for _, test := range []struct {
		name string
		err  error
		want string
	}{
		{"training without labels", readErr, "the data has no labels; training needs the class of every sample: pass --labels"},
		{"audit without labels", auditErr, "the data has no labels; attacks need the true class of every sample: pass --labels"},
		{"awp settings without awp", awpErr, "awp gamma and warm-up apply only with AWP on (--awp)"},
		{"other layout", shapeErr, "the input fits the data in layout NHWC: give that layout (--layout nhwc)"},
		{"memory budget", fmt.Errorf("model.onnx: %w", interp.ErrTooLarge), "; --max-memory raises the budget"},
		{"no samples", fgsm.ErrNoSamples, "the data holds no samples (check --limit and --shard)"},
		{"resume", fmt.Errorf("%w (1 of 2)", fgsm.ErrResumeMismatch), "(1 of 2): resume with the same --batch, --limit and --shard"},
		{"pixels", fmt.Errorf("x.npy: pixel 3 is 2, %w", dataset.ErrPixelRange), "outside [0,1] (--input-scale, --mean and --std describe it)"},
		{"library path", ortErr, "nope.so (no such file) (or pass it with --ort-lib)"},
		{"cuda", fmt.Errorf("%w: libonnxruntime_providers_cuda.so missing", ort.ErrNoCUDA), "; --ort-lib or ONNXRUNTIME_LIB names the library, --device cpu runs on the CPU"},
		{"hinted by the command", withHint(readErr, ": pass --val-labels"), "every sample: pass --val-labels"},
	} {
		if test.err == nil {
			t.Errorf("%s: the library returned no error", test.name)
			continue
		}
		got := withFlagHints(test.err).Error()
		if !strings.HasSuffix(got, test.want) || strings.Count(got, "--") != strings.Count(test.want, "--") {
			t.Errorf("%s: %q; want it to end in %q, with no other flag", test.name, got, test.want)
		}
		if strings.Contains(test.err.Error(), "--") && !strings.Contains(test.name, "command") {
			t.Errorf("%s: the library's error %q names a flag", test.name, test.err)
		}
	}
	if err := withFlagHints(errors.New("plain")); err.Error() != "plain" {
		t.Errorf("an error with no hint became %q", err)
	}
}

// TestEvalWithoutLabels runs eval on unlabelled .npy images: the message
// names eval's way out.
func TestEvalWithoutLabels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := dataset.WriteNpy(path, make([]float32, 2*28*28), []int{2, 1, 28, 28}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runMain([]string{"onnxguard", "eval", "-m", cnn, "-d", path, "--engine", "interp"}, &stdout, &stderr)
	want := "the data has no labels, so accuracy cannot be measured; pass --labels, or use predict\n"
	if code != 1 || !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("eval without labels: status %d, stderr %q; want 1 and a line ending in %q", code, stderr.String(), want)
	}
}
