package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
)

const (
	nhwcModel  = "../../testdata/models/fmnist_nhwc.onnx"
	trainSlice = "../../testdata/fashion/train-images-2000-idx3-ubyte.gz"
)

// TestChannelsLastEndToEnd takes the tf2onnx-style NHWC model
// (testdata/make_tf2onnx_style.py) through eval on both engines, FGSM,
// harden --recipe paper and export, its layout found from its input.
func TestChannelsLastEndToEnd(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	nhwcEngines(t, dir)
	nhwcAttack(t, dir)
	nhwcAudit(t, dir)
	nhwcHarden(t, dir)
}

// nhwcEngines: eval and predict on ONNX Runtime and the interpreter agree.
func nhwcEngines(t *testing.T, dir string) {
	acc, probs := map[string]float64{}, map[string][]float32{}
	for _, engine := range []string{"ort", "interp"} {
		stdout, _, err := run("eval", "-m", nhwcModel, "-d", fashionSlice, "--engine", engine, "--device", "cpu", "--json")
		if err != nil {
			t.Fatalf("eval on %s: %v", engine, err)
		}
		var ev struct{ Accuracy float64 }
		if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
			t.Fatalf("%v in %s", err, stdout)
		}
		acc[engine] = ev.Accuracy
		out := filepath.Join(dir, engine+".npy")
		if _, _, err := run("predict", "-m", nhwcModel, "-d", fashionSlice, "--engine", engine, "--device", "cpu", "--out", out); err != nil {
			t.Fatalf("predict on %s: %v", engine, err)
		}
		var shape []int
		probs[engine], shape = testfiles.ReadNpy(t, out)
		if !slices.Equal(shape, []int{1000, 10}) {
			t.Fatalf("predict on %s wrote shape %v; want [1000 10]", engine, shape)
		}
	}
	t.Logf("clean accuracy: ort %.3f, interp %.3f", acc["ort"], acc["interp"])
	if acc["ort"] != acc["interp"] || acc["ort"] < 0.7 {
		t.Errorf("accuracy %g on ONNX Runtime, %g on the interpreter; want equal, and the trained model's (over 0.7)", acc["ort"], acc["interp"])
	}
	worst := 0.0
	for i, p := range probs["ort"] {
		worst = math.Max(worst, math.Abs(float64(p-probs["interp"][i])))
	}
	if worst > 1e-4 {
		t.Errorf("ONNX Runtime and the interpreter differ by up to %g on the softmax outputs; want at most 1e-4", worst)
	}
}

// nhwcAttack: FGSM, crafted by the interpreter, classified by ONNX
// Runtime and, cross-checking, by the interpreter too; the adversarial
// images come out N×C×H×W like the data.
func nhwcAttack(t *testing.T, dir string) {
	adv := filepath.Join(dir, "adv.npy")
	stdout, _, err := run("attack", "-m", nhwcModel, "-d", fashionSlice, "--limit", "200", "--eps", "0.1", "--device", "cpu", "--json", "--out", adv, "--cross-check")
	if err != nil {
		t.Fatal(err)
	}
	atk := decodeAttack(t, stdout)
	t.Logf("FGSM ε=0.1 on 200 samples: clean %.3f → %.3f, runtime disagreement %g", atk.Clean, atk.Adversarial, atk.Disagreement)
	if atk.Adversarial > atk.Clean-0.3 || atk.Disagreement != 0 || atk.CrossChecked != 200 {
		t.Errorf("FGSM took accuracy from %g to %g (want a drop of over 30 points), runtime disagreement %g on %d cross-checked images (want 0 on 200)", atk.Clean, atk.Adversarial, atk.Disagreement, atk.CrossChecked)
	}
	if _, shape := testfiles.ReadNpy(t, adv); !slices.Equal(shape, []int{200, 1, 28, 28}) {
		t.Errorf("adversarial images of shape %v; want [200 1 28 28]", shape)
	}
}

// nhwcAudit: the audit report records the layout.
func nhwcAudit(t *testing.T, dir string) {
	report := filepath.Join(dir, "audit")
	if _, _, err := run("audit", "-m", nhwcModel, "-d", fashionSlice, "--limit", "50", "--eps", "0.1", "--attacks", "fgsm",
		"--device", "cpu", "--report", report); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Settings struct{ Layout string }
	}
	data, err := os.ReadFile(filepath.Join(report, "report.json"))
	if err == nil {
		err = json.Unmarshal(data, &rep)
	}
	md, _ := os.ReadFile(filepath.Join(report, "report.md"))
	if err != nil || rep.Settings.Layout != "NHWC" || !strings.Contains(string(md), "model input NHWC") {
		t.Errorf("the audit report does not record layout NHWC: %v, settings %+v, report.md:\n%s", err, rep.Settings, md)
	}
}

// nhwcHarden: harden --recipe paper for one epoch, its export checked on
// ONNX Runtime, then export again from the checkpoint.
func nhwcHarden(t *testing.T, dir string) {
	out := filepath.Join(dir, "hardened.onnx")
	stdout, stderr, err := run("harden", "-m", nhwcModel, "-d", trainSlice, "--limit", "400", "--val", fashionSlice, "--val-limit", "200",
		"--recipe", "paper", "--eps", "0.1", "--epochs", "1", "--batch", "32", "--out", out, "--device", "cpu", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var hd struct {
		Before, After struct {
			FGSM float64 `json:"fgsm_accuracy"`
		}
		MaxRelError float64 `json:"export_max_relative_error"`
	}
	if err := json.Unmarshal([]byte(stdout), &hd); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	t.Logf("harden: FGSM accuracy %.3f → %.3f, export error %g", hd.Before.FGSM, hd.After.FGSM, hd.MaxRelError)
	if hd.After.FGSM <= hd.Before.FGSM || hd.MaxRelError > export.DefaultTolerance {
		t.Errorf("hardening took FGSM accuracy from %g to %g (want a rise), export error %g (want at most %g)",
			hd.Before.FGSM, hd.After.FGSM, hd.MaxRelError, export.DefaultTolerance)
	}
	again := filepath.Join(dir, "again.onnx")
	if _, _, err := run("export", "--checkpoint", out+".checkpoints", "-m", nhwcModel, "--out", again, "--device", "cpu"); err != nil {
		t.Fatal(err)
	}
	a, b := initializers(t, out), initializers(t, again)
	for name, v := range a {
		if !slices.Equal(v, b[name]) {
			t.Errorf("initializer %s differs between harden's output and export's", name)
		}
	}
}

// TestLayoutFlag checks that inspect shows the layout --layout auto takes,
// that naming it gives the same result, and that a wrong one is refused
// with the right one named.
func TestLayoutFlag(t *testing.T) {
	testort.Need(t)
	eval := func(args ...string) (string, error) {
		stdout, _, err := run(append([]string{"eval", "-d", fashionSlice, "--limit", "100", "--device", "cpu"}, args...)...)
		return stdout, err
	}
	for model, want := range map[string]string{nhwcModel: "NHWC", cnn: "NCHW"} {
		stdout, _, err := run("inspect", "-m", model, "--json")
		var info modelInfo
		if err == nil {
			err = json.Unmarshal([]byte(stdout), &info)
		}
		if err != nil || len(info.Inputs) != 1 || info.Inputs[0].Layout != want {
			t.Errorf("inspect %s: %v, inputs %+v; want layout %s", model, err, info.Inputs, want)
		}
	}
	auto, err := eval("-m", nhwcModel)
	if err != nil {
		t.Fatal(err)
	}
	named, err := eval("-m", nhwcModel, "--layout", "NHWC")
	if err != nil || named != auto {
		t.Errorf("--layout NHWC: %v, output\n%s\nwant auto's\n%s", err, named, auto)
	}
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"-m", nhwcModel, "--layout", "nchw"}, "the input fits the data in layout NHWC: give that layout (--layout nhwc)"},
		{[]string{"-m", cnn, "--layout", "nhwc"}, "wants 1x28x28 (H×W×C); the input fits the data in layout NCHW"},
		{[]string{"-m", cnn, "--layout", "hwc"}, `--layout: dataset: layout "hwc": choose nchw (channels first) or nhwc (channels last); or auto`},
	} {
		if _, err := eval(test.args...); err == nil || !strings.Contains(withFlagHints(err).Error(), test.want) {
			t.Errorf("%v: error %v; want one containing %q", test.args, err, test.want)
		}
	}
}

// TestChannelsLastThreeChannels runs a three-channel NHWC model, where the
// transposition moves values (with one channel it does not), on ONNX
// Runtime and on the interpreter, with per-channel normalisation, and
// compares both with y = flatten((x − mean)/std)·W computed from the NCHW
// pixels; the same images stored N×H×W×C give the same outputs.
func TestChannelsLastThreeChannels(t *testing.T) {
	testort.Need(t)
	const n, c, h, w, k = 6, 3, 4, 5, 4
	dir := t.TempDir()
	model, weights := testfiles.NHWCLinear(t, h, w, c, k, 2)
	path := filepath.Join(dir, "nhwc_linear.onnx")
	if err := model.Save(path); err != nil {
		t.Fatal(err)
	}
	mean, std := []float32{0.1, 0.2, 0.3}, []float32{0.5, 0.25, 2}
	rng := rand.New(rand.NewPCG(1, 19))
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = rng.Float32()
	}
	hwc := make([]float32, len(x)) // the same images, channels last
	for i, v := range x {
		s, ch, p := i/(c*h*w), i/(h*w)%c, i%(h*w)
		hwc[s*c*h*w+p*c+ch] = v
	}
	nchwFile, nhwcFile := filepath.Join(dir, "nchw.npy"), filepath.Join(dir, "nhwc.npy")
	if err := dataset.WriteNpy(nchwFile, x, []int{n, c, h, w}); err != nil {
		t.Fatal(err)
	}
	if err := dataset.WriteNpy(nhwcFile, hwc, []int{n, h, w, c}); err != nil {
		t.Fatal(err)
	}
	want := make([]float64, n*k)
	for s := range n {
		for i := range c * h * w {
			in := float64((x[s*c*h*w+i] - mean[i/(h*w)]) / std[i/(h*w)])
			for j := range k {
				want[s*k+j] += in * float64(weights[i*k+j])
			}
		}
	}
	for _, engine := range []string{"ort", "interp"} {
		for _, data := range []string{nchwFile, nhwcFile} {
			out := filepath.Join(dir, "out.npy")
			_, _, err := run("predict", "-m", path, "-d", data, "--mean", "0.1,0.2,0.3", "--std", "0.5,0.25,2",
				"--engine", engine, "--device", "cpu", "--out", out)
			if err != nil {
				t.Fatalf("%s on %s: %v", engine, data, err)
			}
			got, _ := testfiles.ReadNpy(t, out)
			for i, v := range got {
				if d := math.Abs(float64(v) - want[i]); d > 1e-4*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("%s on %s: output %d is %g; want %g", engine, filepath.Base(data), i, v, want[i])
				}
			}
		}
	}
}
