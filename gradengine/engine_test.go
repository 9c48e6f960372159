package gradengine

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

var (
	_ fgsm.Gradients = (*Engine)(nil)
	_ fgsm.Engines   = (*Engine)(nil)
)

// counting is a gradient source that counts its Grad calls.
type counting struct{ grads int }

func (c *counting) InputInfo() onnx.ValueInfo                    { return onnx.ValueInfo{} }
func (c *counting) Run(*interp.Tensor) ([]*interp.Tensor, error) { return nil, nil }
func (c *counting) Grad(*interp.Tensor, []int, interp.Want) (*interp.Result, error) {
	c.grads++
	return &interp.Result{}, nil
}

// TestDispatch sends one pass of each kind through an engine with a graph
// and checks which side computed it.
func TestDispatch(t *testing.T) {
	ce := interp.Want{Input: true}
	custom := func(*interp.Tensor, []int) (float64, *interp.Tensor, error) { return 0, nil, nil }
	for i, test := range []struct {
		want    interp.Want
		weights bool // the graph was built with weight gradients
		graph   bool
	}{
		{want: ce, graph: true},
		{want: interp.Want{Input: true, Loss: custom}},
		{want: interp.Want{Input: true, Mode: interp.Mode{Training: true}}},
		{want: interp.Want{Params: true}},
		{want: interp.Want{Params: true}, weights: true, graph: true},
		{want: interp.Want{Params: true, Loss: custom}, weights: true},
	} {
		ref, graph := &counting{}, &counting{}
		e := &Engine{ref: ref, graph: graph, weights: test.weights, device: "cpu"}
		if _, err := e.Grad(nil, nil, test.want); err != nil {
			t.Fatal(err)
		}
		if got := graph.grads == 1 && ref.grads == 0; got != test.graph || graph.grads+ref.grads != 1 {
			t.Errorf("case %d: graph %d passes, interpreter %d; want the pass on the graph: %v", i, graph.grads, ref.grads, test.graph)
		}
		if got, want := e.GradEngine(test.want), map[bool]string{true: "onnxruntime-graph/cpu", false: "interpreter"}[test.graph]; got != want || e.RunEngine() != "interpreter" {
			t.Errorf("case %d: GradEngine %q, RunEngine %q; want %q, interpreter", i, got, e.RunEngine(), want)
		}
	}
	ref := &counting{}
	e := &Engine{ref: ref}
	if _, err := e.Grad(nil, nil, ce); err != nil || ref.grads != 1 || e.Name() != "interpreter" {
		t.Errorf("without a graph: %d interpreter passes, name %q, err %v; want 1, interpreter", ref.grads, e.Name(), err)
	}
}

func TestParseKind(t *testing.T) {
	for _, test := range []struct {
		in   string
		want Kind
		ok   bool
	}{{"", Auto, true}, {"auto", Auto, true}, {"interp", Interp, true}, {"ort", ORT, true}, {"ORT", "", false}, {"gpu", "", false}} {
		got, err := ParseKind(test.in)
		if got != test.want || (err == nil) != test.ok {
			t.Errorf("ParseKind(%q) = %q, %v; want %q, ok %v", test.in, got, err, test.want, test.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), test.in) || strings.Contains(err.Error(), "\n")) {
			t.Errorf("ParseKind(%q): error %q should be one line naming the value", test.in, err)
		}
	}
}

func load(t *testing.T, name string) (*onnx.Model, *interp.Program) {
	t.Helper()
	m, err := onnx.Load(filepath.Join("..", "testdata", "models", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, p
}

// TestPrefer checks Auto's rule on the models under testdata: the
// benchmark CNNs stay on the interpreter where its vector kernels run
// them, strided downsampling sends ConvNeXt to the graph and a patch
// embedding alone ViT, a small MLP stays.
func TestPrefer(t *testing.T) {
	kernels := ops.Kernels() == "avx512f"
	cnn := ORT
	if kernels {
		cnn = Interp
	}
	for _, test := range []struct {
		name string
		want Kind
	}{
		{"bench_cifar", cnn}, {"bench_mnist", cnn}, {"fmnist_cnn", cnn},
		{"convnext_tiny", ORT}, {"vit_tiny", ORT}, {"opset7_mlp", Interp},
	} {
		_, p := load(t, test.name)
		got, why := Prefer(p)
		if got != test.want || why == "" || strings.Contains(why, "\n") {
			t.Errorf("%s: Prefer = %s (%q), want %s (kernels %s)", test.name, got, why, test.want, ops.Kernels())
		}
	}
}

// TestTrainDispatch: an engine opened with Train sends training passes to
// the graph where the mode changes nothing (fmnist_cnn), to the program
// where it does (resblock's BatchNormalization), and lends the program's
// weights; one opened without Train lends none.
func TestTrainDispatch(t *testing.T) {
	training := interp.Want{Params: true, Mode: interp.Mode{Training: true}}
	for _, test := range []struct {
		model string
		graph bool
	}{{"fmnist_cnn", true}, {"resblock", false}} {
		_, p := load(t, test.model)
		ref, graph := &counting{}, &counting{}
		e := &Engine{ref: ref, graph: graph, weights: true, device: "cpu", prog: p}
		if _, err := e.Grad(nil, nil, training); err != nil {
			t.Fatal(err)
		}
		if graph.grads != map[bool]int{true: 1}[test.graph] || e.ModeMatters(training.Mode) == test.graph {
			t.Errorf("%s: training pass on the graph: %v, ModeMatters %v; want %v", test.model, graph.grads == 1, e.ModeMatters(training.Mode), test.graph)
		}
		if len(e.Params()) != len(p.Params()) || &e.Params()[0] != &p.Params()[0] {
			t.Errorf("%s: Params is not the program's", test.model)
		}
	}
	e := &Engine{ref: &counting{}}
	if e.Params() != nil || !e.ModeMatters(training.Mode) {
		t.Errorf("without Train: %d params, ModeMatters %v; want none, true", len(e.Params()), e.ModeMatters(training.Mode))
	}
}

// TestOpenWithoutRuntime points the engine at a library that is not there:
// ORT is an error, Auto falls back to the interpreter and says why, in
// one line, whether ONNX Runtime is installed or not; with Train the
// fallback still trains the program, and Train with Recompile is refused.
func TestOpenWithoutRuntime(t *testing.T) {
	m, p := load(t, "convnext_tiny")
	opt := Options{Kind: ORT, ORT: &ort.Options{Library: filepath.Join(t.TempDir(), "libonnxruntime.so")}}
	if _, err := Open(m, p, opt); !errors.Is(err, ort.ErrLibraryMissing) {
		t.Errorf("ORT without the library: error %v, want ort.ErrLibraryMissing", err)
	}
	opt.Kind = Auto
	e, err := Open(m, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Fallback || e.Name() != "interpreter" || !strings.Contains(e.Reason, "interpreter instead") || strings.Contains(e.Reason, "\n") {
		t.Errorf("Auto without the library: %s, fallback %v, reason %q", e.Name(), e.Fallback, e.Reason)
	}
	if _, err := Open(m, p, Options{Kind: "gpu"}); err == nil {
		t.Error("Kind gpu: no error")
	}
	opt.Train = true
	if e, err = Open(m, p, opt); err != nil || !e.Fallback || len(e.Params()) != len(p.Params()) {
		t.Errorf("Auto with Train, without the library: error %v; want a fallback that trains the program", err)
	}
	opt.Recompile = func() (*interp.Program, error) { return p, nil }
	if _, err := Open(m, p, opt); err == nil || !strings.Contains(err.Error(), "Recompile") {
		t.Errorf("Train with Recompile: error %v, want one that names Recompile", err)
	}
}

// TestAutoOnCUDA: asked for CUDA, Auto wants the graph even where Prefer
// keeps the interpreter; without the library (or, on a machine without a
// GPU, without CUDA) it falls back and says why.
func TestAutoOnCUDA(t *testing.T) {
	m, p := load(t, "bench_cifar")
	lib := filepath.Join(t.TempDir(), "libonnxruntime.so")
	e, err := Open(m, p, Options{ORT: &ort.Options{Device: ort.DeviceCUDA, Library: lib}})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Fallback || e.Name() != "interpreter" || !strings.Contains(e.Reason, "CUDA") {
		t.Errorf("auto with CUDA, no library: %s, fallback %v, reason %q", e.Name(), e.Fallback, e.Reason)
	}
}
