package interp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/mutate"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// mutationBudget is the memory a mutated model may claim; what needs
// more is refused at compile time.
const mutationBudget = 256 << 20

// compileAndRun compiles the model and, when that succeeds, runs one
// forward pass on a batch of one, and a backward pass to the input and
// the weights, as attack and harden do.
func compileAndRun(m *onnx.Model) error {
	return compileRunBudget(m, mutationBudget)
}

func compileRunBudget(m *onnx.Model, budget int64) error {
	p, err := Compile(m, &Options{Seed: 1, MaxMemory: budget})
	if err != nil {
		return err
	}
	shape, _, err := p.inputShape(1)
	if err != nil {
		return err
	}
	x := ops.NewFloat(shape...)
	for i := range x.Data {
		x.Data[i] = 0.5
	}
	if _, err = p.Run(x); err != nil {
		return err
	}
	labels := make([]int, shape[0])
	r, err := p.Grad(x, labels, Want{Input: true, Params: true})
	if err == nil {
		r.Release()
	}
	return err
}

var (
	errPanicked = errors.New("panicked")
	errDeadline = errors.New("still running after the deadline")
)

// withDeadline runs f, turning a panic in its goroutine into errPanicked
// and a run past limit into errDeadline.
func withDeadline(limit time.Duration, f func() error) (err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%w: %v", errPanicked, r)
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		return fmt.Errorf("%w (%v)", errDeadline, limit)
	}
}

// isCrash reports whether err is a panic, a deadline passed, or an error
// message of more than one line.
func isCrash(err error) bool {
	return errors.Is(err, errPanicked) || errors.Is(err, errDeadline) || strings.Contains(err.Error(), "\n")
}

func loadModel(t *testing.T, name string) *onnx.Model {
	t.Helper()
	m, err := onnx.Load(filepath.Join(modelDir, name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAttributeMutations sets each integer attribute of each node of real
// models to 0, -1, -1000, 2^31 and 2^62 in turn: compiling either fails
// with a one-line error or gives a program that runs a batch, never a
// panic, a hang or an allocation past the budget. Preflight, the check
// before ONNX Runtime, refuses whatever Compile refuses for a reason
// other than ErrUnsupported.
func TestAttributeMutations(t *testing.T) {
	for _, name := range []string{"fmnist_cnn", "resblock", "mobile", "dropout", "opset7_mlp", "normalized"} {
		m := loadModel(t, name)
		refused, ran := 0, 0
		for _, mu := range append(mutate.Attrs(m.Proto), mutate.FloatAttrs(m.Proto)...) {
			mm := &onnx.Model{Proto: mu.Apply(m.Proto), Dir: m.Dir}
			err := withDeadline(20*time.Second, func() error { return compileAndRun(mm) })
			switch {
			case err == nil:
				ran++
			case isCrash(err):
				t.Errorf("%s: %v: %v", name, mu, err)
			default:
				refused++
			}
			if err != nil && !isCrash(err) && !errors.Is(err, ErrUnsupported) {
				if _, perr := Preflight(mm, &Options{MaxMemory: mutationBudget}); perr == nil {
					t.Errorf("%s: %v: Compile refuses (%v), Preflight lets it through", name, mu, err)
				}
			}
		}
		t.Logf("%s: %d mutations refused, %d ran", name, refused, ran)
	}
}

// TestMalformedReproductions are the malformed models of issue 14, each
// of which crashed, hung or ran out of memory before: compile and the
// pre-flight both give a one-line error that names the attribute or says
// what is too large.
func TestMalformedReproductions(t *testing.T) {
	m := loadModel(t, "fmnist_cnn")
	for _, test := range []struct {
		op, attr string
		elem     int
		value    int64
		want     string
	}{
		{"Conv", "strides", 0, 0, "strides"},
		{"Conv", "strides", 0, -1, "strides"},
		{"Conv", "pads", 0, 1 << 62, "pads"},
		{"Conv", "pads", 0, 1 << 31, "pads"},
		{"Conv", "kernel_shape", 0, -1, "kernel_shape"},
		{"Conv", "kernel_shape", 0, 0, "kernel_shape"},
		{"Conv", "dilations", 0, 0, "dilations"},
		{"Conv", "group", -1, 0, "group"},
		{"MaxPool", "strides", 0, 0, "strides"},
		{"MaxPool", "strides", 1, -1, "strides"},
		{"MaxPool", "pads", 0, 1 << 62, "pads"},
		{"MaxPool", "pads", 0, 1 << 31, "pads"},
		{"MaxPool", "pads", 0, 2, "pads"},
		{"MaxPool", "kernel_shape", 0, -1, "kernel_shape"},
		{"MaxPool", "kernel_shape", 1, 0, "kernel_shape"},
		{"Flatten", "axis", -1, -1000, "axis"},
	} {
		what := fmt.Sprintf("%s %s[%d]=%d", test.op, test.attr, test.elem, test.value)
		mu, ok := mutate.Find(m.Proto, test.op, test.attr, test.elem, test.value)
		if !ok {
			t.Errorf("%s: fmnist_cnn has no such attribute", what)
			continue
		}
		checkRefused(t, what, &onnx.Model{Proto: mu.Apply(m.Proto), Dir: m.Dir}, test.want, onnx.ErrInvalid)
	}
	huge := &onnx.Model{Proto: mutate.InputDims(m.Proto, 1, 1000000, 1000000), Dir: m.Dir}
	checkRefused(t, "input 1×1000000×1000000", huge, "memory budget", ErrTooLarge)
	huge = &onnx.Model{Proto: mutate.InputDims(m.Proto, 1<<40, 1, 28, 28), Dir: m.Dir}
	checkRefused(t, "input batch 2^40", huge, "memory budget", ErrTooLarge)
}

// checkRefused checks that Compile and Preflight both refuse m with a
// one-line error containing want; is, where Compile's error must match it.
func checkRefused(t *testing.T, what string, m *onnx.Model, want string, is error) {
	t.Helper()
	err := withDeadline(20*time.Second, func() error { return compileAndRun(m) })
	switch {
	case err == nil:
		t.Errorf("%s: compiled and ran", what)
	case isCrash(err) || !strings.Contains(err.Error(), want):
		t.Errorf("%s: %v, want a one-line error containing %q", what, err, want)
	case !errors.Is(err, is):
		t.Errorf("%s: %v does not wrap %v", what, err, is)
	}
	if _, perr := Preflight(m, &Options{MaxMemory: mutationBudget}); perr == nil || strings.Contains(perr.Error(), "\n") {
		t.Errorf("%s: Preflight gives %v, want a one-line error", what, perr)
	}
}

// TestNodeTestMutations sets each integer attribute of each ONNX node test
// model the interpreter supports to 0, -1, -1000, 2^31 and 2^62, and each
// float attribute to NaN, ±Inf, 0, -1 and 1e30, and runs
// it on the test's inputs: every operator, not just those of the real
// models, must answer with an error or a result.
func TestNodeTestMutations(t *testing.T) {
	dirs, err := os.ReadDir(nodeTestDir)
	if err != nil {
		t.Skipf("ONNX node tests not found (%v); install Debian's libonnx-testdata", err)
	}
	models, runs, refused := 0, 0, 0
	for _, d := range dirs {
		dir := filepath.Join(nodeTestDir, d.Name())
		m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
		if err != nil || !allSupported(m) {
			continue
		}
		models++
		for _, mu := range append(mutate.Attrs(m.Proto), mutate.FloatAttrs(m.Proto)...) {
			mm := &onnx.Model{Proto: mu.Apply(m.Proto), Dir: m.Dir}
			runs++
			err := withDeadline(20*time.Second, func() error { return runMutatedNodeTest(mm, filepath.Join(dir, "test_data_set_0")) })
			if err != nil && isCrash(err) {
				t.Errorf("%s: %v: %v", d.Name(), mu, err)
			} else if err != nil {
				refused++
			}
		}
	}
	t.Logf("%d mutations of %d node test models: %d refused, %d ran", runs, models, refused, runs-refused)
}

// runMutatedNodeTest compiles a node test model within mutationBudget
// and runs it on the test's inputs, whatever it computes.
func runMutatedNodeTest(m *onnx.Model, dataDir string) error {
	return runNodeTestWith(m, dataDir, nil)
}

// runNodeTestWith is runMutatedNodeTest with change, when not nil,
// applied to the i-th input before the run.
func runNodeTestWith(m *onnx.Model, dataDir string, change func(i int, x *Tensor)) error {
	p, err := compile(m, &Options{MaxMemory: mutationBudget})
	if err != nil {
		return err
	}
	feeds := map[int]*Tensor{}
	for i, in := range p.Graph.Inputs {
		x, err := readTensor(filepath.Join(dataDir, fmt.Sprintf("input_%d.pb", i)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if change != nil {
			change(i, x)
		}
		feeds[p.slots[in.Name]] = x
	}
	_, err = p.forwardFeeds(feeds, Mode{}, nil, true)
	return err
}

// TestNodeTestIntInputMutations sets each element of each integer input
// of the supported ONNX node tests (shapes, indices, axes, pads, repeats,
// sizes: what a model's initializers and Constants feed the same ops) to
// 0, -1, -1000, 2^31 and 2^62 in turn: an error or a result, never a
// panic or a hang.
func TestNodeTestIntInputMutations(t *testing.T) {
	dirs, err := os.ReadDir(nodeTestDir)
	if err != nil {
		t.Skipf("ONNX node tests not found (%v); install Debian's libonnx-testdata", err)
	}
	runs, refused := 0, 0
	for _, d := range dirs {
		dir := filepath.Join(nodeTestDir, d.Name())
		data := filepath.Join(dir, "test_data_set_0")
		m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
		if err != nil || !allSupported(m) {
			continue
		}
		for i := 0; ; i++ {
			x, err := readTensor(filepath.Join(data, fmt.Sprintf("input_%d.pb", i)))
			if err != nil {
				break
			}
			if !x.IsInt() || len(x.Ints) > 64 {
				continue
			}
			for j := range x.Ints {
				for _, v := range mutate.Values {
					runs++
					change := func(k int, y *Tensor) {
						if k == i {
							y.Ints[j] = v
						}
					}
					err := withDeadline(20*time.Second, func() error { return runNodeTestWith(m, data, change) })
					if err != nil && isCrash(err) {
						t.Errorf("%s: input %d element %d = %d: %v", d.Name(), i, j, v, err)
					} else if err != nil {
						refused++
					}
				}
			}
		}
	}
	t.Logf("%d input mutations: %d refused, %d ran", runs, refused, runs-refused)
}

// TestSoftmaxWithoutInputs compiles a graph whose output is a Softmax
// with no inputs (found by FuzzCompile): picking the logits read the
// Softmax's first input and panicked; now compiling is an error.
func TestSoftmaxWithoutInputs(t *testing.T) {
	info := func(name string) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.TensorProto_FLOAT)),
				Shape: &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 2}}}}}}}}
	}
	mp := &onnx.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnx.OperatorSetIdProto{{Version: proto.Int64(13)}},
		Graph: &onnx.GraphProto{
			Input:  []*onnx.ValueInfoProto{info("x")},
			Output: []*onnx.ValueInfoProto{info("y")},
			Node:   []*onnx.NodeProto{{OpType: proto.String("Softmax"), Output: []string{"y"}}},
		}}
	err := withDeadline(5*time.Second, func() error {
		_, err := Compile(&onnx.Model{Proto: mp}, nil)
		return err
	})
	if err == nil || isCrash(err) {
		t.Errorf("got %v, want a one-line error", err)
	}
}
