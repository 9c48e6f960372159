package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/internal/testort"
)

// randomFolder writes an image folder of 10 classes, per of random 32×32
// colour PNGs each: labelled data any small RGB classifier can read (image
// folders are brought to the model's input size).
func randomFolder(t *testing.T, per int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(17, 1))
	for c := 0; c < 10; c++ {
		class := filepath.Join(dir, fmt.Sprintf("c%d", c))
		if err := os.Mkdir(class, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < per; i++ {
			img := image.NewRGBA(image.Rect(0, 0, 32, 32))
			for j := 0; j < len(img.Pix); j += 4 {
				img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255
			}
			img.Set(0, 0, color.RGBA{uint8(25 * c), 0, 0, 255})
			f, err := os.Create(filepath.Join(class, fmt.Sprintf("%d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestTransformersEndToEnd takes the opset-17 ViT and ConvNeXt (with
// LayerNormalization nodes; testdata/make_transformers.py) through FGSM,
// one epoch of harden --recipe paper and the export's ONNX Runtime check,
// as issue 16 asks of transformer exports.
func TestTransformersEndToEnd(t *testing.T) {
	testort.Need(t)
	data := randomFolder(t, 8)
	for _, name := range []string{"vit_tiny", "convnext_tiny"} {
		t.Run(name, func(t *testing.T) {
			model := filepath.Join("../../testdata/models", name+".onnx")
			stdout, stderr, err := run("attack", "-m", model, "-d", data, "--eps", "0.03", "--device", "cpu", "--json")
			if err != nil {
				t.Fatalf("attack: %v\n%s", err, stderr)
			}
			atk := decodeAttack(t, stdout)
			t.Logf("FGSM ε=0.03: accuracy %.3f → %.3f, runtime disagreement %g", atk.Clean, atk.Adversarial, atk.Disagreement)
			if atk.Adversarial > atk.Clean || atk.Disagreement > 0.05 {
				t.Errorf("FGSM raised accuracy from %g to %g, or the runtime disagreed on %g of the images", atk.Clean, atk.Adversarial, atk.Disagreement)
			}
			out := filepath.Join(t.TempDir(), "hardened.onnx")
			stdout, stderr, err = run("harden", "-m", model, "-d", data, "--val", data, "--recipe", "paper", "--eps", "0.03",
				"--epochs", "1", "--batch", "16", "--out", out, "--device", "cpu", "--autoattack", "none", "--json")
			if err != nil {
				t.Fatalf("harden: %v\n%s", err, stderr)
			}
			var hd struct {
				MaxRelError float64 `json:"export_max_relative_error"`
			}
			if err := json.Unmarshal([]byte(stdout), &hd); err != nil {
				t.Fatalf("%v in %s", err, stdout)
			}
			t.Logf("export checked on ONNX Runtime: max relative error %g", hd.MaxRelError)
			if hd.MaxRelError > export.DefaultTolerance {
				t.Errorf("the exported model differs from the interpreter by %g on ONNX Runtime; want at most %g", hd.MaxRelError, export.DefaultTolerance)
			}
		})
	}
}
