package main

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/gradgraph"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestGradgraphRunsOnORT writes the gradient graph of the Fashion-MNIST CNN
// with weight gradients, opens it in ONNX Runtime by the names the JSON
// summary gives, and checks its input gradient against the interpreter's.
func TestGradgraphRunsOnORT(t *testing.T) {
	testort.Need(t)
	model := "../../testdata/models/fmnist_cnn.onnx"
	out := filepath.Join(t.TempDir(), "fmnist.grad.onnx")
	stdout, _, err := run("gradgraph", "--model", model, "--out", out, "--weights", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Inputs, Outputs []string
		Nodes           int
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("gradgraph --json printed %q: %v", stdout, err)
	}
	m, err := onnx.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Inputs) != 2 || len(sum.Outputs) != 3+len(p.Params()) || sum.Nodes == 0 {
		t.Fatalf("summary %+v: want 2 inputs and 3 + %d outputs", sum, len(p.Params()))
	}
	g, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	data, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sess, err := ort.OpenGraph(data, sum.Inputs, sum.Outputs[:3], &ort.Options{Device: ort.DeviceCPU})
	if err != nil {
		t.Fatalf("ONNX Runtime cannot open the written graph: %v", err)
	}
	defer sess.Close()
	const n = 4
	rng := rand.New(rand.NewPCG(4, 4))
	x := &interp.Tensor{Shape: []int{n, 1, 28, 28}, Data: make([]float32, n*28*28)}
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	labels, ys := []int{3, 1, 4, 1}, []int64{3, 1, 4, 1}
	got, err := sess.Run([]ort.Tensor{{Shape: []int64{n, 1, 28, 28}, Float: x.Data}, {Shape: []int64{n}, Int: ys}})
	if err != nil {
		t.Fatal(err)
	}
	loss, want, err := p.LossGrad(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	var diff, scale float64
	for i, v := range want.Data {
		diff = max(diff, math.Abs(float64(got[2].Float[i]-v)))
		scale = max(scale, math.Abs(float64(v)))
	}
	if diff > 1e-4*scale || math.Abs(float64(got[1].Float[0])-loss) > 1e-5*loss {
		t.Errorf("written graph: input gradient off by %.3g of %.3g, loss %v against the interpreter's %v", diff, scale, got[1].Float[0], loss)
	}
}

func TestGradgraphErrors(t *testing.T) {
	dir := t.TempDir()
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "../../testdata/models/opset7_mlp.onnx", "--out", filepath.Join(dir, "a.onnx")}, "gradient graphs need opset 13"},
		{[]string{"--model", "../../testdata/models/fmnist_cnn_qlinear.onnx", "--out", filepath.Join(dir, "b.onnx")}, `node MatMulInteger "fc2": no backward rule for MatMulInteger`},
		{[]string{"--model", "../../testdata/models/fmnist_cnn.onnx", "--out", "../../testdata/models/fmnist_cnn.onnx"}, "is the model file"},
		{[]string{"--out", filepath.Join(dir, "c.onnx")}, "--model"},
	} {
		_, _, err := run(append([]string{"gradgraph"}, test.args...)...)
		if err == nil || !strings.Contains(err.Error(), test.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("gradgraph %q: error %v, want one line with %q", test.args, err, test.want)
		}
	}
	m, err := onnx.Load("../../testdata/models/opset7_mlp.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gradgraph.Build(m, nil); !errors.Is(err, gradgraph.ErrUnsupported) || !errors.Is(err, onnx.ErrUnsupported) {
		t.Errorf("Build of an opset-7 model: %v, want gradgraph.ErrUnsupported", err)
	}
}
