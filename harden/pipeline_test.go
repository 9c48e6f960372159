//go:build cgo

package harden

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestRun hardens a model from start to end, with validation data and
// with a held-out split, and checks what Run reports and writes: both
// measurements, the export check, the provenance and class names in the
// file, and the callbacks.
func TestRun(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name    string
		val     *Data
		split   float64
		samples int // validation samples measured
	}{
		{"val", random(24, 1, 12, 12, 2), 0, 24},
		{"split", nil, 0.25, 12},
	} {
		path := testfiles.Path("models", "dropout.onnx")
		m, err := onnx.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		var measured []string
		trained, classes := 0, 0
		rc := &RunConfig{
			Training: Config{Recipe: Paper, Eps: 0.1, Epochs: 1, Batch: 16, Seed: 3, ValSplit: test.split, CheckpointDir: filepath.Join(dir, "ck")},
			Model:    m, ModelPath: path, Train: random(48, 1, 12, 12, 1), Val: test.val,
			Out: filepath.Join(dir, "out.onnx"), Version: "test", ORT: ort.Options{Device: ort.DeviceCPU},
			ClassNames: func(k int) ([]string, error) {
				classes = k
				return []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}[:k], nil
			},
			Trained: func(*Result) { trained++ },
			Measuring: func(p string) (func(int, int), func()) {
				measured = append(measured, p)
				return nil, nil
			},
		}
		rep, err := Run(context.Background(), rc)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if rep.MaxRelError > export.DefaultTolerance || rep.Tolerance != export.DefaultTolerance {
			t.Errorf("%s: export check %g (tolerance %g); want at most %g", test.name, rep.MaxRelError, rep.Tolerance, export.DefaultTolerance)
		}
		for _, side := range []Measurement{rep.Before, rep.After} {
			if side.Audit == nil || side.Audit.Samples != test.samples || !strings.HasPrefix(side.Runtime, "onnxruntime/") || side.Clean != side.Audit.CleanAccuracy {
				t.Errorf("%s: measurement %+v; want an ONNX Runtime audit of %d samples", test.name, side, test.samples)
			}
		}
		if want := []string{path, rc.Out}; !slices.Equal(measured, want) || trained != 1 || classes != 10 {
			t.Errorf("%s: measured %q, trained %d times, %d classes named; want %q, once, 10", test.name, measured, trained, classes, want)
		}
		sum, _ := m.SHA256()
		meta := metadata(t, rc.Out)
		for k, want := range map[string]string{"onnxguard.recipe": "paper", "onnxguard.version": "test", export.SourceKey: sum,
			dataset.ClassNamesKey: `["a","b","c","d","e","f","g","h","i","j"]`} {
			if meta[k] != want {
				t.Errorf("%s: metadata %s = %q, want %q", test.name, k, meta[k], want)
			}
		}
		if rep.Config.ModelSHA256 != sum || rep.Epochs != 1 {
			t.Errorf("%s: report config digest %q, %d epochs; want %q, 1", test.name, rep.Config.ModelSHA256, rep.Epochs, sum)
		}
	}
}

// TestRunNeedsValidation: Run measures on validation data, so it refuses
// a run with neither validation data nor a split.
func TestRunNeedsValidation(t *testing.T) {
	testort.Need(t)
	path := testfiles.Path("models", "dropout.onnx")
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), &RunConfig{Training: Config{Recipe: Paper, Eps: 0.1}, Model: m, ModelPath: path,
		Train: random(16, 1, 12, 12, 1), Out: filepath.Join(t.TempDir(), "out.onnx")})
	if err == nil || !strings.Contains(err.Error(), "validation data") {
		t.Errorf("Run without validation data: %v; want an error asking for it", err)
	}
}

// TestRunRefusesOverwritingItsModel: the hardened model written over the
// model it starts from would lose the original and make the "after"
// measurement read the wrong weights.
func TestRunRefusesOverwritingItsModel(t *testing.T) {
	path := testfiles.Path("models", "dropout.onnx")
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), &RunConfig{Training: Config{Recipe: Paper, Eps: 0.1}, Model: m, ModelPath: path,
		Train: random(16, 1, 12, 12, 1), Out: path})
	if err == nil || !strings.Contains(err.Error(), "over the model it starts from") {
		t.Errorf("Run with Out = ModelPath: %v; want a refusal", err)
	}
}

func metadata(t *testing.T, path string) map[string]string {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	md := map[string]string{}
	for _, p := range m.Proto.GetMetadataProps() {
		md[p.GetKey()] = p.GetValue()
	}
	return md
}

// TestRunDiverges: a run that diverges says where its checkpoints are and
// writes no model.
func TestRunDiverges(t *testing.T) {
	testort.Need(t)
	path := testfiles.Path("models", "fmnist_cnn.onnx")
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.onnx")
	_, err = Run(context.Background(), &RunConfig{
		Training: Config{Recipe: Clean, Eps: 0.1, Epochs: 2, Batch: 16, Optimizer: SGD, LR: 1e6, CheckpointDir: filepath.Join(dir, "ck")},
		Model:    m, ModelPath: path, Train: fashion(t, 0, 64), Val: fashion(t, 64, 32), Out: out, ORT: ort.Options{Device: ort.DeviceCPU},
	})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "(checkpoints in "+filepath.Join(dir, "ck")+")") {
		t.Errorf("lr 1e6: %v; want ErrDiverged naming the checkpoint folder", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a diverged run wrote %s (%v)", out, err)
	}
}
