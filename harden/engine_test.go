package harden

import (
	"context"
	"math"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/gradengine"
	"github.com/onnxguard/onnxguard/internal/testort"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// TestTrainOnGraph trains the same model from the same start on the
// interpreter and on a gradient engine opened with Train (ONNX Runtime's
// graph, fed the weights the optimizer updates), with the paper recipe,
// and requires the same weights: the graph computes the crafting and, where
// the mode does not matter, the training passes too (fmnist_cnn and
// vit_tiny fuse their steps; resblock's BatchNormalization keeps its
// training passes on the interpreter).
func TestTrainOnGraph(t *testing.T) {
	testort.Need(t)
	for _, test := range []struct {
		name    string
		onGraph bool // the training passes run on the graph
		batch   int
	}{
		{"fmnist_cnn", true, 8},
		{"vit_tiny", true, 4},
		{"resblock", false, 4},
	} {
		t.Run(test.name, func(t *testing.T) {
			file := "../testdata/models/" + test.name + ".onnx"
			m, err := onnx.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			ref, prog := compileFile(t, file), compileFile(t, file)
			e, err := gradengine.Open(m, prog, gradengine.Options{Kind: gradengine.ORT, Train: true, ORT: &ort.Options{Device: ort.DeviceCPU}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			training := interp.Want{Mode: interp.Mode{Training: true}, Params: true}
			if got := e.OnGraph(training); got != test.onGraph {
				t.Fatalf("training passes on the graph: %v, want %v", got, test.onGraph)
			}
			s := prog.Input.Shape
			data := random(2*test.batch, int(s[1]), int(s[2]), int(s[3]), 3)
			cfg := Config{Recipe: Paper, Eps: 0.1, Batch: test.batch, Epochs: 1, Optimizer: SGD, LR: 0.05, Seed: 1}
			start := make([][]float32, len(ref.Params()))
			for i, p := range ref.Params() {
				start[i] = append([]float32(nil), p.T.Data...)
			}
			if _, err := Train(context.Background(), ref, dataset.Preprocess{}, data, nil, cfg, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := Train(context.Background(), e, dataset.Preprocess{}, data, nil, cfg, nil); err != nil {
				t.Fatal(err)
			}
			// The two runs' updates, weight by weight, relative to the
			// largest change the interpreter made to that weight.
			moved := 0
			for i, p := range ref.Params() {
				got, want := prog.Params()[i].T.Data, p.T.Data
				var diff, scale float64
				for j := range want {
					scale = max(scale, math.Abs(float64(want[j]-start[i][j])))
					diff = max(diff, math.Abs(float64(got[j]-want[j])))
				}
				if scale > 0 {
					moved++
				}
				if diff > 1e-3*scale+1e-7 {
					t.Errorf("weight %q: trained on the graph, off by %.3g from the interpreter's, whose update is %.3g at most", p.Name, diff, scale)
				}
			}
			if moved == 0 {
				t.Fatal("training changed no weight")
			}
		})
	}
}
