package export

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// TestWriteExternalSymlinkOutside refuses to export a model whose data
// file is a symbolic link to a file outside its folder: the export would
// copy that file's bytes into the new model.
func TestWriteExternalSymlinkOutside(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	src := externalModel(t, elsewhere, "model.onnx", "weights.bin")
	if err := os.Rename(src, filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "weights.bin"), filepath.Join(dir, "weights.bin")); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.onnx")
	err = Write(out, m, nil, nil)
	if !errors.Is(err, onnx.ErrOutsideFolder) {
		t.Errorf("exporting through a link out of the folder: %v, want ErrOutsideFolder", err)
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Errorf("the refused export left %s behind", out)
	}
}
