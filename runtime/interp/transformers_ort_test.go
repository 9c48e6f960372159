//go:build cgo

package interp_test

import (
	"github.com/onnxguard/onnxguard/runtime/interp"
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestTransformersMatchORT runs the opset-17 ViT and ConvNeXt on ONNX
// Runtime and on the interpreter: logits within 1e-4, relative to
// max(|logit|, 1e-2) as the other model tests state it.
func TestTransformersMatchORT(t *testing.T) {
	testort.Need(t)
	for _, name := range interp.TransformerModels {
		path := filepath.Join(interp.ModelDir, name+".onnx")
		x := interp.ReadNpy(t, filepath.Join(interp.ModelDir, name+".input.npy"))
		s, err := ort.Open(path, &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU})
		if err != nil {
			t.Fatalf("%s: ONNX Runtime: %v", name, err)
		}
		want, shape, err := s.Run(nil, x.Data, x.Shape[0])
		s.Close()
		if err != nil {
			t.Fatalf("%s: ONNX Runtime: %v", name, err)
		}
		outs, err := interp.LoadProgram(t, name).Run(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := outs[0]
		if !slices.Equal(shape, []int64{int64(got.Shape[0]), int64(got.Shape[1])}) {
			t.Fatalf("%s: ONNX Runtime's logits have shape %v, the interpreter's %v", name, shape, got.Shape)
		}
		if e := interp.MaxRelErr(got.Data, want, 1e-2); e > 1e-4 {
			t.Errorf("%s: the interpreter differs from ONNX Runtime by %.3g relative, want ≤ 1e-4", name, e)
		} else {
			t.Logf("%s: max relative difference %.2g from ONNX Runtime", name, e)
		}
	}
}
