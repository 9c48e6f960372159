//go:build cgo

package gradengine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestEnginesAgree opens fmnist_cnn with Kind ORT and checks, against the
// interpreter alone, that a cross-entropy pass (on the graph) gives the
// same loss and input gradient up to float rounding, and that a custom
// loss (on the interpreter) gives exactly the interpreter's.
func TestEnginesAgree(t *testing.T) {
	testort.Need(t)
	m, p := load(t, "fmnist_cnn")
	e, err := Open(m, p, Options{Kind: ORT, ORT: &ort.Options{Device: ort.DeviceCPU, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Name() != "onnxruntime-graph/cpu" {
		t.Fatalf("Kind ORT opened %s (%s)", e.Name(), e.Reason)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := &interp.Tensor{Shape: []int{4, 1, 28, 28}, Data: make([]float32, 4*28*28)}
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	labels := []int{1, 5, 9, 0}
	sq := func(l *interp.Tensor, _ []int) (float64, *interp.Tensor, error) {
		d := &interp.Tensor{Shape: l.Shape, Data: make([]float32, l.Len())}
		var s float64
		for i, v := range l.Data {
			s += float64(v) * float64(v) / 2
			d.Data[i] = v
		}
		return s, d, nil
	}
	for _, want := range []interp.Want{{Input: true}, {Input: true, Loss: sq}} {
		got, err := e.Grad(x, labels, want)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := p.Grad(x, labels, want)
		if err != nil {
			t.Fatal(err)
		}
		tol := 1e-4 // the graph: ONNX Runtime's kernels sum in other orders
		if !e.OnGraph(want) {
			tol = 0
		}
		if d := math.Abs(got.Loss - ref.Loss); d > tol*math.Abs(ref.Loss) {
			t.Errorf("custom loss %v: loss %v, interpreter %v", want.Loss != nil, got.Loss, ref.Loss)
		}
		if r := relErr(got.Input.Data, ref.Input.Data); r > tol {
			t.Errorf("custom loss %v: input gradient relative error %.3g, want ≤ %g", want.Loss != nil, r, tol)
		}
		got.Release()
		ref.Release()
	}
}

// relErr is max|a-b| over max|b|.
func relErr(a, b []float32) float64 {
	var d, s float64
	for i := range b {
		d = max(d, math.Abs(float64(a[i]-b[i])))
		s = max(s, math.Abs(float64(b[i])))
	}
	if len(a) != len(b) {
		return math.Inf(1)
	}
	return d / s
}

// TestAutoOpensGraph: Auto on ConvNeXt-tiny, whose strided convolutions
// are off the vector kernels, opens the graph.
func TestAutoOpensGraph(t *testing.T) {
	testort.Need(t)
	m, p := load(t, "convnext_tiny")
	e, err := Open(m, p, Options{ORT: &ort.Options{Device: ort.DeviceCPU, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Name() != "onnxruntime-graph/cpu" || e.Fallback {
		t.Errorf("auto on convnext_tiny: %s, fallback %v (%s); want onnxruntime-graph/cpu", e.Name(), e.Fallback, e.Reason)
	}
}

// TestAuditCleanLogits audits 32 Fashion-MNIST images with FGSM on each
// engine, classified by ONNX Runtime on the CPU: the report names whose
// clean logits it compared with the runtime's (the graph's, whose check is
// then two ONNX Runtime sessions on one device, and the report says so;
// the interpreter's with --cross-check or the interpreter engine), and the
// two agree on every clean image.
func TestAuditCleanLogits(t *testing.T) {
	testort.Need(t)
	m, p := load(t, "fmnist_cnn")
	sess, err := ort.Open(filepath.Join("..", "testdata", "models", "fmnist_cnn.onnx"), &ort.Options{Device: ort.DeviceCPU, Threads: 1, Check: interp.PreflightCheck})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	x, labels := testfiles.FashionSlice(t, 32)
	for _, test := range []struct {
		kind      Kind
		xchk      bool
		clean     string
		same      bool
		checkSays string
	}{
		{ORT, false, "onnxruntime-graph/cpu", true, "two ONNX Runtime sessions on cpu (the gradient graph and the deployed model)"},
		{ORT, true, "interpreter", false, "by the interpreter and onnxruntime/cpu"},
		{Interp, false, "interpreter", false, "by the interpreter and onnxruntime/cpu"},
	} {
		e, err := Open(m, p, Options{Kind: test.kind, ORT: &ort.Options{Device: ort.DeviceCPU, Threads: 1}})
		if err != nil {
			t.Fatal(err)
		}
		fm, err := fgsm.NewModel(e, dataset.Preprocess{})
		if err != nil {
			t.Fatal(err)
		}
		src, err := dataset.FromMemory(x, labels, len(labels), 1, 28, 28)
		if err != nil {
			t.Fatal(err)
		}
		r, err := fgsm.Audit(context.Background(), fm, src, fgsm.AuditOptions{Attacks: []fgsm.Config{{Method: fgsm.FGSM, Eps: 0.1}},
			Batch: 16, Seed: 1, Check: sess, RuntimeName: "onnxruntime/" + sess.Device(), CrossCheck: test.xchk})
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("%s, cross-check %v", e.Name(), test.xchk)
		if r.CleanLogits != test.clean || r.CleanSameRuntime() != test.same || r.CleanDisagreement != 0 {
			t.Errorf("%s: clean logits %q (same runtime %v), %d clean disagreements; want %q (%v), 0",
				what, r.CleanLogits, r.CleanSameRuntime(), r.CleanDisagreement, test.clean, test.same)
		}
		if c := r.CleanCheck(); !strings.Contains(c, "0 of 32 clean samples") || !strings.Contains(c, test.checkSays) {
			t.Errorf("%s: clean check %q; want it to say %q", what, c, test.checkSays)
		}
	}
}

// TestRecompileOnDemand opens fmnist_cnn's graph with Options.Recompile:
// the engine holds no program until a pass needs one, knows the class
// count without it, then compiles once and gives the interpreter's own
// logits and custom-loss gradients; a compile that fails is an error from
// the pass that needed it.
func TestRecompileOnDemand(t *testing.T) {
	testort.Need(t)
	m, p := load(t, "fmnist_cnn")
	compiles := 0
	e, err := Open(m, p, Options{Kind: ORT, ORT: &ort.Options{Device: ort.DeviceCPU, Threads: 1},
		Recompile: func() (*interp.Program, error) { compiles++; return interp.Compile(m, nil) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	lazy, ok := e.ref.(*lazyProgram)
	if !ok || lazy.p != nil {
		t.Fatalf("the engine holds %T, want a program compiled on demand", e.ref)
	}
	if e.Classes() != 10 || e.InputInfo().Name != p.InputInfo().Name {
		t.Errorf("Classes() = %d, input %q; want 10, %q", e.Classes(), e.InputInfo().Name, p.InputInfo().Name)
	}
	x := &interp.Tensor{Shape: []int{2, 1, 28, 28}, Data: make([]float32, 2*28*28)}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	if _, err := e.Grad(x, []int{3, 7}, interp.Want{Input: true}); err != nil || compiles != 0 {
		t.Fatalf("a cross-entropy pass: %v, %d compiles; want it on the graph, none", err, compiles)
	}
	got, want := runBoth(t, e, p, x)
	if compiles != 1 || !slices.Equal(got[0].Data, want[0].Data) {
		t.Errorf("Run: %d compiles, logits %v; want 1, the interpreter's %v", compiles, got[0].Data, want[0].Data)
	}
	sum := func(l *interp.Tensor, _ []int) (float64, *interp.Tensor, error) {
		d := &interp.Tensor{Shape: l.Shape, Data: make([]float32, l.Len())}
		var s float64
		for i, v := range l.Data {
			s, d.Data[i] = s+float64(v), 1
		}
		return s, d, nil
	}
	g, err := e.Grad(x, []int{3, 7}, interp.Want{Input: true, Loss: sum})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Grad(x, []int{3, 7}, interp.Want{Input: true, Loss: sum})
	if err != nil {
		t.Fatal(err)
	}
	if compiles != 1 || !slices.Equal(g.Input.Data, r.Input.Data) {
		t.Errorf("custom loss: %d compiles; gradients equal %v; want 1, true", compiles, slices.Equal(g.Input.Data, r.Input.Data))
	}
	broken, err := Open(m, p, Options{Kind: ORT, ORT: &ort.Options{Device: ort.DeviceCPU, Threads: 1},
		Recompile: func() (*interp.Program, error) { return nil, fmt.Errorf("out of memory") }})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	if _, err := broken.Run(x); err == nil || !strings.Contains(err.Error(), "out of memory") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Run with a failing compile: %v; want one line saying why", err)
	}
}

// runBoth runs x on the engine and on the interpreter's program.
func runBoth(t *testing.T, e *Engine, p *interp.Program, x *interp.Tensor) (got, want []*interp.Tensor) {
	t.Helper()
	got, err := e.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = p.Run(x); err != nil {
		t.Fatal(err)
	}
	return got, want
}

// TestTrainRunsOnGraph: an engine opened with Train classifies on its
// graph (RunEngine names it), and with the weights as training leaves
// them: after a weight changes in place, Run agrees with the interpreter
// on the new weights, not the old.
func TestTrainRunsOnGraph(t *testing.T) {
	testort.Need(t)
	m, p := load(t, "fmnist_cnn")
	e, err := Open(m, p, Options{Kind: ORT, Train: true, ORT: &ort.Options{Device: ort.DeviceCPU, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.RunEngine(); got != "onnxruntime-graph/cpu" {
		t.Errorf("RunEngine() = %q, want the graph's", got)
	}
	x, _ := ortbench.RandomBatch(p, 3)
	before, err := e.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	before0 := slices.Clone(before[0].Data)
	for _, w := range p.Params() {
		for i := range w.T.Data {
			w.T.Data[i] *= 1.5
		}
	}
	got, want := runBoth(t, e, p, x)
	var diff, scale, moved float64
	for i, v := range want[0].Data {
		diff = max(diff, math.Abs(float64(got[0].Data[i]-v)))
		scale = max(scale, math.Abs(float64(v)))
		moved = max(moved, math.Abs(float64(before0[i]-v)))
	}
	if diff > 1e-4*scale || moved < 1e-2*scale {
		t.Errorf("Run after the weights changed: off by %.3g from the interpreter's logits (largest %.3g), which moved by %.3g; want the new weights' logits", diff, scale, moved)
	}

	// A model with an int64 output beside its scores (an ArgMax label)
	// keeps it on the graph, as the interpreter's Run does.
	g := m.Proto.Graph
	logits := g.Output[0].GetName()
	g.Node = append(g.Node, &onnx.NodeProto{OpType: proto.String("ArgMax"), Name: proto.String("label"), Input: []string{logits}, Output: []string{"label"},
		Attribute: []*onnx.AttributeProto{{Name: proto.String("axis"), Type: onnx.AttributeProto_INT.Enum(), I: proto.Int64(1)},
			{Name: proto.String("keepdims"), Type: onnx.AttributeProto_INT.Enum(), I: proto.Int64(0)}}})
	g.Output = append(g.Output, &onnx.ValueInfoProto{Name: proto.String("label"), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.TensorProto_INT64))}}}})
	p2, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Open(m, p2, Options{Kind: ORT, Train: true, ORT: &ort.Options{Device: ort.DeviceCPU, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	outs, ref := runBoth(t, e2, p2, x)
	if len(outs) != 2 || !slices.Equal(outs[1].Ints, ref[1].Ints) {
		t.Errorf("Run of a model with a label output: %v; want the interpreter's labels %v", outs, ref[1].Ints)
	}
}
