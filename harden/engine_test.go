package harden

import (
	"context"
	"math"
	"slices"
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

// heldClean is a Trainable that checks, after every pass, that the
// gradients of the last clean pass (input and weights asked for: the
// fused step's FGSM pass) are as that pass returned them: the fused step
// keeps that result, unreleased, for the update after the next pass to
// read, and no pass may have written into it.
type heldClean struct {
	Trainable
	t      *testing.T
	passes int
	clean  [][]float32 // the last clean pass's weight gradients, as returned
	held   []*interp.Tensor
}

// ModeMatters passes on the engine's answer, which decides the fusing.
func (h *heldClean) ModeMatters(m interp.Mode) bool { return modeMatters(h.Trainable, m) }

func (h *heldClean) Grad(x *interp.Tensor, labels []int, want interp.Want) (*interp.Result, error) {
	r, err := h.Trainable.Grad(x, labels, want)
	h.passes++
	for i, g := range h.held {
		if g != nil && !slices.Equal(g.Data, h.clean[i]) {
			h.t.Errorf("pass %d wrote into the held clean pass's gradient of weight %d", h.passes, i)
		}
	}
	h.held, h.clean = nil, nil
	if err == nil && want.Input && want.Params {
		h.held = r.Params
		for _, g := range r.Params {
			var c []float32
			if g != nil {
				c = slices.Clone(g.Data)
			}
			h.clean = append(h.clean, c)
		}
	}
	return r, err
}

// TestFusedStepKeepsClean runs four fused paper steps on the interpreter
// and on the gradient graph, each engine's storage of the passes before
// free to be reused, and checks that the adversarial pass never writes
// into the clean pass's gradients, which the step holds until its update.
func TestFusedStepKeepsClean(t *testing.T) {
	file := "../testdata/models/fmnist_cnn.onnx"
	for _, engine := range []string{"interpreter", "graph"} {
		t.Run(engine, func(t *testing.T) {
			var prog Trainable = compileFile(t, file)
			if engine == "graph" {
				testort.Need(t)
				m, err := onnx.Load(file)
				if err != nil {
					t.Fatal(err)
				}
				e, err := gradengine.Open(m, prog.(*interp.Program), gradengine.Options{Kind: gradengine.ORT, Train: true, ORT: &ort.Options{Device: ort.DeviceCPU}})
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close()
				prog = e
			}
			h := &heldClean{Trainable: prog, t: t}
			data := random(8, 1, 28, 28, 3)
			tr, err := newTrainer(h, dataset.Preprocess{}, data, nil, Config{Recipe: Paper, Eps: 0.1, Batch: 8, Seed: 1, LR: 0.01, Optimizer: Adam}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.fuse {
				t.Fatal("the paper recipe on fmnist_cnn is not fused")
			}
			for i := range 4 {
				if _, _, _, err := tr.trainStep(data.X, data.Labels, uint64(i), 0.01); err != nil {
					t.Fatal(err)
				}
			}
			if h.passes != 8 {
				t.Errorf("%d passes in four fused steps, want 8", h.passes)
			}
		})
	}
}
