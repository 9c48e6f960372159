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
	for _, flag := range []string{"--weights", "--feed-weights"} {
		t.Run(flag, func(t *testing.T) { checkGradgraphFile(t, flag) })
	}
}

// checkGradgraphFile writes fmnist_cnn's graph with flag and checks it on
// ONNX Runtime, fed its weights where the flag makes them inputs.
func checkGradgraphFile(t *testing.T, flag string) {
	model := "../../testdata/models/fmnist_cnn.onnx"
	out := filepath.Join(t.TempDir(), "fmnist.grad.onnx")
	stdout, _, err := run("gradgraph", "--model", model, "--out", out, flag, "--json")
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
	inputs := 2
	if flag == "--feed-weights" {
		inputs += len(p.Params())
	}
	if len(sum.Inputs) != inputs || len(sum.Outputs) != 3+len(p.Params()) || sum.Nodes == 0 {
		t.Fatalf("summary %+v: want %d inputs and 3 + %d outputs", sum, inputs, len(p.Params()))
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
	feeds := []ort.Tensor{{Shape: []int64{n, 1, 28, 28}, Float: x.Data}, {Shape: []int64{n}, Int: ys}}
	got, err := sess.Run(append(feeds, weightFeeds(t, p, sum.Inputs[2:])...))
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

// weightFeeds returns p's weights named by a --feed-weights graph's inputs
// after the labels, in their order.
func weightFeeds(t *testing.T, p *interp.Program, names []string) []ort.Tensor {
	t.Helper()
	params := map[string]interp.Param{}
	for _, prm := range p.Params() {
		params[prm.Name] = prm
	}
	var feeds []ort.Tensor
	for _, name := range names {
		prm, ok := params[name]
		if !ok {
			t.Fatalf("input %q is no weight of the model", name)
		}
		shape := make([]int64, len(prm.T.Shape))
		for i, d := range prm.T.Shape {
			shape[i] = int64(d)
		}
		feeds = append(feeds, ort.Tensor{Shape: shape, Float: prm.T.Data})
	}
	return feeds
}
