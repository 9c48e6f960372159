package harden

import (
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testfiles"
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

func benchmarkPaperStep(b *testing.B, model string, batch int) {
	benchmarkPaperStepFile(b, testfiles.Path("models", model+".onnx"), batch)
}

func benchmarkPaperStepFile(b *testing.B, file string, batch int) {
	sess := ortbench.Session(b, file)
	prog := compileFile(b, file)
	s := prog.Input.Shape
	data := random(batch, int(s[1]), int(s[2]), int(s[3]), 1)
	t, err := newTrainer(prog, dataset.Preprocess{}, data, nil, Config{Recipe: Paper, Eps: 8.0 / 255, Batch: batch, Optimizer: Adam, Seed: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	lr, step := t.cfg.LRAt(0), 0
	ortbench.Beside(b, sess, data.X, batch, func() error {
		_, _, _, err := t.trainStep(data.X, data.Labels, stepSeed(t.cfg.Seed, 0, step), lr)
		step++
		return err
	})
}
