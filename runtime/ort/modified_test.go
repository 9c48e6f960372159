//go:build cgo

package ort

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
)

// TestModifiedInitializerRuns changes one initializer of a PyTorch export
// through the onnx package, saves it, and checks that ONNX Runtime loads
// the result and that the change shows in its outputs exactly: adding d to
// the last Gemm's bias for class k adds d to logit k and nothing else.
func TestModifiedInitializerRuns(t *testing.T) {
	needORT(t)
	path := filepath.Join(models, "fmnist_cnn.onnx")
	needFile(t, path)
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Graph()
	if err != nil {
		t.Fatal(err)
	}
	last := g.Nodes[len(g.Nodes)-1]
	if last.OpType != "Gemm" || len(last.Inputs) < 3 {
		t.Fatalf("last node is %s, want the output Gemm with a bias", last)
	}
	bias, _, err := g.Initializer(last.Inputs[2])
	if err != nil {
		t.Fatal(err)
	}
	const class, delta = 3, 5
	bias.Float[class] += delta
	if err := onnx.EncodeFloat(g.InitializerProto(last.Inputs[2]), bias.Float); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "modified.onnx")
	if err := m.Save(out); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path)
	changed, _ := os.ReadFile(out)
	if len(orig) != len(changed) {
		t.Errorf("a same-size weight change altered the file size: %d → %d bytes", len(orig), len(changed))
	}

	x := make([]float32, 2*28*28)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	before, _, err := openModel(t, path, cpuOpts()).Run(nil, x, 2)
	if err != nil {
		t.Fatal(err)
	}
	after, _, err := openModel(t, out, cpuOpts()).Run(nil, x, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		want := before[i]
		if i%10 == class {
			want += delta
		}
		if d := after[i] - want; d > 1e-4 || d < -1e-4 {
			t.Errorf("logit %d: %v after the change, want %v", i, after[i], want)
		}
	}
}
