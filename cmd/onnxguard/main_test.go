package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/onnxguard/onnxguard/runtime/ort"
)

const (
	fashionTest  = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
	fashionSlice = "../../testdata/fashion/t10k-images-1000-idx3-ubyte.gz"
	cnn          = "../../testdata/models/fmnist_cnn.onnx"
	cnnRaw255    = "../../testdata/models/fmnist_cnn_b1_255.onnx"
)

// run drives the app in-process and returns stdout, stderr and the error.
func run(args ...string) (string, string, error) {
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.Run(flagsFirst(app, append([]string{"onnxguard"}, args...)))
	return out.String(), errOut.String(), err
}

func needORT(t *testing.T) {
	t.Helper()
	if _, err := ort.FindLibrary(""); err != nil {
		if os.Getenv("ONNXGUARD_REQUIRE_ORT") != "" {
			t.Fatalf("ONNX Runtime required: %v", err)
		}
		t.Skipf("ONNX Runtime library not installed (%v)", err)
	}
}

type reference struct {
	CNN    map[string]any `json:"fmnist_cnn"`
	CNN255 map[string]any `json:"fmnist_cnn_b1_255"`
}

func loadReference(t *testing.T) reference {
	data, err := os.ReadFile("../../testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEvalMatchesOnnxRuntimeDirect checks onnxguard eval against the
// accuracy onnxruntime-node measured on the same files (testdata/reference.json),
// for a dynamic-batch model and for a fixed-batch-1 model that takes 0-255 pixels.
func TestEvalMatchesOnnxRuntimeDirect(t *testing.T) {
	testort.Need(t)
	ref := loadReference(t)
	data, refKey := fashionSlice, "ort_node_slice1000_correct"
	if _, err := os.Stat(fashionTest); err == nil {
		data, refKey = fashionTest, "ort_node_test_correct"
	}
	for _, test := range []struct {
		model string
		args  []string
		want  float64
	}{
		{cnn, nil, ref.CNN[refKey].(float64)},
		{cnnRaw255, []string{"--input-scale", "255"}, ref.CNN255[refKey].(float64)},
	} {
		args := append([]string{"eval", "--model", test.model, "--data", data, "--json", "--device", "cpu"}, test.args...)
		stdout, _, err := run(args...)
		if err != nil {
			t.Fatalf("%s: %v", test.model, err)
		}
		var got struct {
			Samples  int     `json:"samples"`
			Correct  int     `json:"correct"`
			Accuracy float64 `json:"accuracy"`
			Model    string  `json:"model"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%s: --json printed %q: %v", test.model, stdout, err)
		}
		if float64(got.Correct) != test.want || got.Model != test.model {
			t.Errorf("%s on %s: %d correct of %d, want %v (onnxruntime-node)", test.model, data, got.Correct, got.Samples, test.want)
		}
	}
}

func TestEvalTextAndLimit(t *testing.T) {
	testort.Need(t)
	stdout, _, err := run("eval", "-m", cnn, "-d", fashionSlice, "--limit", "100", "--batch", "7", "--device", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "of 100 samples correct") || !strings.Contains(stdout, "class 0") {
		t.Errorf("eval text output:\n%s", stdout)
	}
}

func TestPredictBothEnginesAgree(t *testing.T) {
	testort.Need(t)
	dir := t.TempDir()
	outs := map[string][]float32{}
	for _, engine := range []string{"ort", "interp"} {
		path := filepath.Join(dir, engine+".npy")
		_, stderr, err := run("predict", "-m", cnn, "-d", fashionSlice, "--limit", "50", "--engine", engine, "--out", path, "--device", "cpu")
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if !strings.Contains(stderr, "wrote 50×10 outputs") {
			t.Errorf("%s: stderr %q", engine, stderr)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := npyio.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Header.Descr.Shape; len(got) != 2 || got[0] != 50 || got[1] != 10 {
			t.Fatalf("%s: npy shape %v, want [50 10]", engine, got)
		}
		var flat []float32
		if err := r.Read(&flat); err != nil {
			t.Fatal(err)
		}
		f.Close()
		outs[engine] = flat
	}
	for i := range outs["ort"] {
		a, b := outs["ort"][i], outs["interp"][i]
		if d := a - b; d > 1e-3 || d < -1e-3 {
			t.Fatalf("logit %d: ort %v, interp %v", i, a, b)
		}
	}
}

func TestInspect(t *testing.T) {
	stdout, _, err := run("inspect", "--model", cnn, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var info modelInfo
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatal(err)
	}
	if info.Opset != 13 || len(info.Inputs) != 1 || info.Inputs[0].Name != "input" ||
		strings.Join(info.Inputs[0].Shape, ",") != "batch,1,28,28" && strings.Join(info.Inputs[0].Shape, ",") != "N,1,28,28" ||
		info.Ops["Conv"] != 2 || info.Parameters != 421642 {
		t.Errorf("inspect: %+v", info)
	}
	if want := interp.Kernels(interpOptions(interp.Options{})); info.Kernels != want || info.BLAS != ops.BLAS() {
		t.Errorf("inspect: kernels %q, BLAS %q; this machine has %q, %q", info.Kernels, info.BLAS, want, ops.BLAS())
	}
	text, _, err := run("inspect", "-m", cnn)
	if err != nil || !strings.Contains(text, "parameters  421642") || !strings.Contains(text, "Conv×2") {
		t.Errorf("inspect text: %v\n%s", err, text)
	}
}

func TestErrorsAreOneClearLine(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("this is not a model"), 0o644)
	cifarish := filepath.Join(dir, "cifar.bin")
	os.WriteFile(cifarish, make([]byte, 3073*2), 0o644)
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "-m", filepath.Join(dir, "absent.onnx")}, "no such file"},
		{[]string{"inspect", "-m", garbage}, "not an ONNX protobuf"},
		{[]string{"eval", "-m", cnn, "-d", filepath.Join(dir, "absent.gz")}, "absent.gz"},
		{[]string{"eval", "-m", cnn, "-d", cifarish, "--engine", "interp"}, "model input \"input\""},
		{[]string{"eval", "-m", cnn, "-d", fashionSlice, "--engine", "tpu"}, "--engine \"tpu\""},
		{[]string{"eval", "-m", cnn, "-d", fashionSlice, "--batch", "0"}, "--batch 0"},
		{[]string{"eval", "-m", cnn, "-d", fashionSlice, "--mean", "0.5,x"}, "--mean"},
		{[]string{"eval", "-m", cnn, "-d", fashionSlice, "--ort-lib", filepath.Join(dir, "nope.so")}, "nope.so"},
	} {
		_, _, err := run(test.args...)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%v: got %v, want an error mentioning %q", test.args, err, test.want)
			continue
		}
		if exitCode(err) == 0 {
			t.Errorf("%v: exit code 0", test.args)
		}
	}
	var ee *exitError
	if !errors.As(&exitError{errors.New("x"), 3}, &ee) || exitCode(ee) != 3 {
		t.Error("exitError does not carry its code")
	}
}

// TestInterpFixedBatch runs the fixed-batch-1, 0-255 export through the
// interpreter, which serves it in chunks of its batch, padding the last.
func TestInterpFixedBatch(t *testing.T) {
	var correct [2]int
	for i, model := range []string{cnn, cnnRaw255} {
		args := []string{"eval", "-m", model, "-d", fashionSlice, "--limit", "37", "--batch", "8", "--engine", "interp", "--json"}
		if model == cnnRaw255 {
			args = append(args, "--input-scale", "255")
		}
		stdout, _, err := run(args...)
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		var got struct{ Samples, Correct int }
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Samples != 37 {
			t.Fatalf("%s: %q, %v", model, stdout, err)
		}
		correct[i] = got.Correct
	}
	if correct[0] != correct[1] {
		t.Errorf("interpreter: %d correct with the dynamic model, %d with the fixed-batch 0-255 one", correct[0], correct[1])
	}
}
