//go:build cgo

package gradgraph

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
)

func TestModelsMatchInterpreter(t *testing.T) {
	testort.Need(t)
	paths, err := filepath.Glob("../testdata/models/*.onnx")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no models in ../testdata/models: %v", err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".onnx"), func(t *testing.T) {
			m, err := onnx.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := compareWithInterp(t, m, 3, true, 1)
			reason, listed := unsupportedModels[name]
			switch {
			case listed && errors.Is(err, onnx.ErrUnsupported):
				t.Logf("%s: unsupported as listed (%s): %v", name, reason, err)
				return
			case listed && err == nil:
				t.Fatalf("%s is listed as unsupported (%s) but builds", name, reason)
			case err != nil:
				t.Fatal(err)
			}
			c.check(t, name)
		})
	}
}
