package harden

import (
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/gradengine"
	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// The paper-step benchmarks time one training step of the seed paper's
// recipe as Train takes it (trainer.trainStep): FGSM on a minibatch of B
// clean samples, then every parameter's gradient on the 2B clean and
// adversarial samples and an AdamW step. Neither benchmark model has
// Dropout or BatchNorm, so this is the fused step (trainer.fusedStep):
// the clean half's gradient comes from the FGSM pass. They run beside ONNX
// Runtime's forward pass on the same model and the same B samples
// (internal/ortbench), and count B images per step: the minibatch, not
// the 2B the optimizer sees, so that img/s is training data consumed.
func BenchmarkMNISTPaperStep128(b *testing.B) { benchmarkPaperStep(b, "bench_mnist", 128) }
func BenchmarkCIFARPaperStep128(b *testing.B) { benchmarkPaperStep(b, "bench_cifar", 128) }

// BenchmarkArchPaperStep is the paper step on the deployed architectures
// (internal/testfiles.Archs, exported by testdata/make_arch_models.py),
// where BatchNorm and Dropout take the unfused step.
func BenchmarkArchPaperStep(b *testing.B) {
	for _, a := range testfiles.Archs {
		b.Run(a.Name, func(b *testing.B) { benchmarkPaperStepFile(b, testfiles.ArchPath(b, a), a.Batch) })
	}
}

// BenchmarkAutoPaperStep is the paper step on the deployed architectures
// at batch 16 (issue 19's targets), trained on the gradient engine that
// harden's default, --grad-engine auto, opens (gradengine.Options.Train):
// the sub-benchmark's name ends in the engine that computes the training
// passes.
//
//	go test -run '^$' -bench 'AutoPaperStep/resnet50' -benchtime 2x ./harden/
func BenchmarkAutoPaperStep(b *testing.B) {
	if _, err := ort.FindLibrary(""); err != nil {
		b.Skipf("ONNX Runtime is not installed: %v", err)
	}
	for _, a := range testfiles.Archs {
		b.Run(a.Name, func(b *testing.B) {
			file := testfiles.ArchPath(b, a)
			m, err := onnx.Load(file)
			if err != nil {
				b.Fatal(err)
			}
			prog := compileFile(b, file)
			e, err := gradengine.Open(m, prog, gradengine.Options{Train: true, ORT: &ort.Options{Device: ort.DeviceCPU}})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			if e.Fallback {
				b.Fatalf("auto fell back to the interpreter: %s", e.Reason)
			}
			engine := e.GradEngine(interp.Want{Mode: interp.Mode{Training: true}, Params: true})
			b.Run(engine, func(b *testing.B) { benchmarkPaperStepOn(b, file, e, 16, "auto") })
		})
	}
}

func benchmarkPaperStep(b *testing.B, model string, batch int) {
	benchmarkPaperStepFile(b, testfiles.Path("models", model+".onnx"), batch)
}

func benchmarkPaperStepFile(b *testing.B, file string, batch int) {
	benchmarkPaperStepOn(b, file, compileFile(b, file), batch, "interp")
}

// benchmarkPaperStepOn times the paper step training prog on batch random
// images beside ONNX Runtime's forward pass, its metrics named as
// ortbench.BesideAs names them.
func benchmarkPaperStepOn(b *testing.B, file string, prog Trainable, batch int, name string) {
	sess := ortbench.Session(b, file)
	s := prog.InputInfo().Shape
	data := random(batch, int(s[1]), int(s[2]), int(s[3]), 1)
	t, err := newTrainer(prog, dataset.Preprocess{}, data, nil, Config{Recipe: Paper, Eps: 8.0 / 255, Batch: batch, Optimizer: Adam, Seed: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	lr, step := t.cfg.LRAt(0), 0
	ortbench.BesideAs(b, sess, data.X, batch, name, func() error {
		_, _, _, err := t.trainStep(data.X, data.Labels, stepSeed(t.cfg.Seed, 0, step), lr)
		step++
		return err
	})
}
