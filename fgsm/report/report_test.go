package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
)

var fashion = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

const warning = "pgd ε=0.3 keeps 12.00% accuracy; at so large an ε an iterative attack should drive accuracy near zero"

// testReport is an audit of 100 samples, 10 per class, under FGSM and PGD at
// three ε each, with a warning and examples of FGSM at ε=0.05 (grey) and of
// PGD at ε=0.3 (grey and RGB). fgsm's finish is unexported, so the rates
// are derived here.
func testReport() *fgsm.Report {
	r := &fgsm.Report{
		Version: fgsm.ReportVersion, Tool: "onnxguard test",
		Model: fgsm.ModelInfo{Path: "testdata/models/fmnist_cnn.onnx", SHA256: strings.Repeat("ab", 32),
			Opset: 17, Input: "input", InputShape: []int64{-1, 1, 28, 28}},
		Data: "fashion/t10k-images-1000-idx3-ubyte.gz", Runtime: "onnxruntime", GradEngine: "onnxruntime-graph/cpu",
		Samples: 100, CleanCorrect: 92, CleanDisagreement: 1,
		Settings: fgsm.Settings{Batch: 64, InputScale: 1, Mean: []float32{0.5}, Std: []float32{0.5}},
		Seed:     42, Shards: []fgsm.Shard{{Start: 0, End: 100}},
		Warnings: []string{warning}, Classes: fashion,
	}
	r.CleanPerClass = perClass(92)
	for _, c := range []struct {
		cfg     fgsm.Config
		correct int
	}{
		{fgsm.Config{Method: fgsm.FGSM, Eps: 0.05, Alpha: 0.05, Steps: 1, Restarts: 1}, 70},
		{fgsm.Config{Method: fgsm.FGSM, Eps: 0.1, Alpha: 0.1, Steps: 1, Restarts: 1}, 45},
		{fgsm.Config{Method: fgsm.FGSM, Eps: 0.3, Alpha: 0.3, Steps: 1, Restarts: 1}, 20},
		{fgsm.Config{Method: fgsm.PGD, Eps: 0.05, Alpha: 0.0125, Steps: 10, RandomStart: true, Restarts: 1}, 60},
		{fgsm.Config{Method: fgsm.PGD, Eps: 0.1, Alpha: 0.025, Steps: 10, RandomStart: true, Restarts: 1}, 30},
		{fgsm.Config{Method: fgsm.PGD, Eps: 0.3, Alpha: 0.075, Steps: 10, RandomStart: true, Restarts: 1}, 12},
	} {
		res := &fgsm.Result{Config: c.cfg, Samples: 100, Correct: c.correct, Eligible: 92,
			Successes: 92 - c.correct + 2, Disagreements: 3, LinfSum: 100 * c.cfg.Eps, LinfMax: c.cfg.Eps,
			L2Sum: 100 * 10 * c.cfg.Eps, L2Max: 28 * c.cfg.Eps, PerClass: perClass(c.correct)}
		res.Accuracy = float64(res.Correct) / float64(res.Samples)
		res.SuccessRate = float64(res.Successes) / float64(res.Eligible)
		res.RuntimeDisagreement = float64(res.Disagreements) / float64(res.Samples)
		res.LinfMean, res.L2Mean = res.LinfSum/100, res.L2Sum/100
		r.Results = append(r.Results, res)
	}
	r.CleanAccuracy = 0.92
	r.Examples = []*fgsm.Example{
		greyExample(0, "fgsm", 0.05, 3, 3, 3), greyExample(1, "fgsm", 0.05, 7, 7, 5),
		greyExample(0, "pgd", 0.3, 3, 3, 6), greyExample(1, "pgd", 0.3, 7, 7, 7),
		rgbExample(2, "pgd", 0.3, 8, 8, 1),
	}
	return r
}

// perClass spreads correct answers over 10 classes of 10 samples each.
func perClass(correct int) []fgsm.ClassCount {
	pc := make([]fgsm.ClassCount, 10)
	for i := range pc {
		pc[i] = fgsm.ClassCount{Class: i, Samples: 10, Correct: min(10, max(0, correct-10*i))}
		pc[i].Accuracy = float64(pc[i].Correct) / 10
	}
	return pc
}

// greyExample is a 28×28 image, dark (0.1) with a bright (0.9) square at
// rows and columns 4 to 11; its adversarial image raises the dark square at
// rows and columns 16 to 23 by ε.
func greyExample(index int, attack string, eps float64, label, clean, adv int) *fgsm.Example {
	e := &fgsm.Example{Index: index, Attack: attack, Eps: eps, Label: label, CleanPred: clean, AdvPred: adv,
		C: 1, H: 28, W: 28, Perturbed: true}
	e.Clean = make([]float32, 28*28)
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			e.Clean[y*28+x] = 0.1
			if in(y, 4, 12) && in(x, 4, 12) {
				e.Clean[y*28+x] = 0.9
			}
		}
	}
	e.Adv = append([]float32(nil), e.Clean...)
	for y := 16; y < 24; y++ {
		for x := 16; x < 24; x++ {
			e.Adv[y*28+x] += float32(eps)
		}
	}
	return e
}

// rgbExample is a 3×32×32 image, dark with a red square at rows and columns
// 8 to 23; its adversarial image raises green in that square by ε.
func rgbExample(index int, attack string, eps float64, label, clean, adv int) *fgsm.Example {
	const hw = 32 * 32
	e := &fgsm.Example{Index: index, Attack: attack, Eps: eps, Label: label, CleanPred: clean, AdvPred: adv,
		C: 3, H: 32, W: 32, Perturbed: true}
	e.Clean = make([]float32, 3*hw)
	for i := range e.Clean {
		e.Clean[i] = 0.1
	}
	for y := 8; y < 24; y++ {
		for x := 8; x < 24; x++ {
			e.Clean[y*32+x] = 0.9
		}
	}
	e.Adv = append([]float32(nil), e.Clean...)
	for y := 8; y < 24; y++ {
		for x := 8; x < 24; x++ {
			e.Adv[hw+y*32+x] += float32(eps)
		}
	}
	return e
}

func in(v, lo, hi int) bool { return lo <= v && v < hi }

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit", "run1") // missing: WriteDir creates it
	r := testReport()
	if err := WriteDir(dir, r); err != nil {
		t.Fatalf("WriteDir: %v", err)
	}
	for _, name := range []string{JSONFile, MarkdownFile, HTMLFile, RobustnessFile, ExamplesFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: want a non-empty file, got %v", name, err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 5 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want the five report files and no temporary files", names)
	}

	data, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var back fgsm.Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("report.json does not decode into fgsm.Report: %v", err)
	}
	if !reflect.DeepEqual(back.Results, r.Results) {
		t.Errorf("report.json results differ after a round trip:\ngot  %+v\nwant %+v", back.Results, r.Results)
	}
	if back.CleanAccuracy != r.CleanAccuracy || !reflect.DeepEqual(back.Warnings, r.Warnings) ||
		!reflect.DeepEqual(back.Classes, r.Classes) || !reflect.DeepEqual(back.Model, r.Model) {
		t.Errorf("report.json: clean accuracy, warnings, classes or model differ after a round trip")
	}

	for _, test := range []struct {
		name       string
		minW, minH int
	}{
		{RobustnessFile, 400, 300},
		{ExamplesFile, 5 * minTile, 3 * minTile}, // three samples, clean and two attacks
	} {
		img := decodePNG(t, filepath.Join(dir, test.name))
		if b := img.Bounds(); b.Dx() < test.minW || b.Dy() < test.minH || b.Dx() > 4000 || b.Dy() > 4000 {
			t.Errorf("%s is %d×%d, want at least %d×%d and at most 4000×4000", test.name, b.Dx(), b.Dy(), test.minW, test.minH)
		}
	}
}

func TestMarkdown(t *testing.T) {
	r := testReport()
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	want := []string{
		"# Robustness audit of fmnist_cnn.onnx",
		"sha256 `" + r.Model.SHA256 + "`",
		"opset 17, input `input` of shape ?×1×28×28",
		"- **Seed:** 42",
		"- **Gradients:** onnxruntime-graph/cpu, other losses on onnxguard's interpreter",
		"- **Shards:** samples [0, 100)",
		"| clean | 0 | 92.00% | – | 1.00% (1/100) |",
		"| 0 T-shirt/top | 10 | 100.00% |",
		"| 9 Ankle boot | 10 | 20.00% |",
		"- " + warning,
		"## How to read this",
	}
	for _, res := range r.Results {
		want = append(want, "| "+res.Name()+fmt.Sprintf(" | %g | %.2f%% |", res.Eps, 100*res.Accuracy))
	}
	for _, s := range want {
		if !strings.Contains(md, s) {
			t.Errorf("report.md lacks %q:\n%s", s, md)
		}
	}
	if strings.Contains(md, "\nnone\n") {
		t.Errorf("report.md says no warnings, but the report has one")
	}

	r.Warnings = nil
	buf.Reset()
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "## Warnings\n\nnone\n") {
		t.Errorf("report.md without warnings should say none:\n%s", buf.String())
	}
}

func TestWriteDirNoExamples(t *testing.T) {
	dir := t.TempDir()
	r := testReport()
	r.Examples = nil
	if err := WriteDir(dir, r); err != nil {
		t.Fatalf("WriteDir without examples: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ExamplesFile)); !os.IsNotExist(err) {
		t.Errorf("examples.png: want no file without examples, got %v", err)
	}
	if err := Examples(filepath.Join(dir, ExamplesFile), r); err == nil {
		t.Errorf("Examples without examples: want an error, got none")
	}
}

func TestErrors(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	under := filepath.Join(file, "report") // a path below a regular file cannot be created, even by root
	damaged := testReport()
	damaged.Examples[2].Adv = damaged.Examples[2].Adv[:10]
	for _, test := range []struct {
		name string
		run  func() error
		want string // the error must name this
	}{
		{"WriteDir under a file", func() error { return WriteDir(under, testReport()) }, under},
		{"Robustness under a file", func() error { return Robustness(filepath.Join(under, "r.png"), testReport()) }, filepath.Join(under, "r.png")},
		{"Examples under a file", func() error { return Examples(filepath.Join(under, "e.png"), testReport()) }, filepath.Join(under, "e.png")},
		{"damaged example", func() error { return Examples(filepath.Join(tmp, "e.png"), damaged) }, "sample 0"},
		{"damaged example in memory", func() error { return WriteExamples(io.Discard, damaged) }, "damaged"},
		{"nil report", func() error { return WriteDir(tmp, nil) }, "no report"},
	} {
		err := test.run()
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got error %v, want one naming %q", test.name, err, test.want)
		}
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestEnsembleReport checks the AutoAttack section of report.md and that
// robustness.png draws an ensemble and FAB's minimum-norm curve.
func TestEnsembleReport(t *testing.T) {
	r := testReport()
	e := &fgsm.EnsembleResult{
		Ensemble: fgsm.Ensemble{Name: "autoattack", Norm: fgsm.Linf, Eps: 0.1, Stages: []fgsm.StageSpec{
			{Name: "apgd-ce", Restarts: 1}, {Name: "fab-t", Restarts: 1, Targets: 9}}},
		Samples: 100, Correct: 25, Accuracy: 0.25, PerClass: perClass(25),
		PerStage: []fgsm.StageOutcome{
			{Name: "apgd-ce", Attacked: 92, Broken: 60, Robust: 32, Accuracy: 0.32, Seconds: 12.5},
			{Name: "fab-t", Attacked: 32, Broken: 7, Robust: 25, Accuracy: 0.25, Seconds: 30}},
		Broken:         []fgsm.BrokenSample{{Index: 3, Stage: "clean", Pred: 1}, {Index: 4, Stage: "apgd-ce", Pred: 2}, {Index: 9, Stage: "fab-t", Pred: 0}},
		MinNormSamples: 92,
		MinLinf:        &fgsm.NormSummary{Found: 3, Median: 0.05, Quantiles: []float64{0.01, 0.02, 0.05, 0.08, 0.2}},
	}
	for i := 0; i < 92; i++ {
		e.MinNorms = append(e.MinNorms, fgsm.MinNorm{Index: i, Linf: 0.003 * float64(i+1), L2: -1})
	}
	r.Ensembles = []*fgsm.EnsembleResult{e}
	var md bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## AutoAttack", "### autoattack linf ε=0.1", "| apgd-ce | 92 | 60 | 32.00% | 12.5 | – |",
		"| fab-t (9 targets) | 32 | 7 | 25.00% | 30.0 | – |", "**25.00%**", "clean 1, apgd-ce 1, fab-t 1", "median 0.05"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if curve, ok := e.MinNormCurve(92, []float64{0, 0.0031, 1}); !ok || curve[0] != 0.92 || curve[1] != 0.91 || curve[2] != 0 {
		t.Errorf("minimum-norm curve %v, %t; want [0.92 0.91 0]", curve, ok)
	}
	dir := t.TempDir()
	if err := Robustness(filepath.Join(dir, RobustnessFile), r); err != nil {
		t.Fatal(err)
	}
}
