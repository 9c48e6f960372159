package fgsm

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime"
)

// BenchmarkAttacks runs each stage of AutoAttack, at the reference's
// settings (100 iterations; APGD-T and FAB-T over 9 targets; Square's 5000
// queries), on 32 samples labelled with the model's own clean classes, so
// that every sample is attacked; samples leave the batch once broken, as
// in an audit. The deployed model that checks them (and that Square
// queries) is ONNX Runtime where this build can load it, the interpreter
// otherwise. samples/s is the stage's throughput:
//
//	go test -run '^$' -bench Attacks ./fgsm/
func BenchmarkAttacks(b *testing.B) {
	for _, m := range []struct {
		model string
		eps   float64
	}{{"fmnist_cnn", 0.1}, {"bench_cifar", 8.0 / 255}} {
		for _, stage := range []string{"apgd-ce", "apgd-dlr", "apgd-t", "fab-t", "square"} {
			b.Run(stage+"/"+m.model, func(b *testing.B) { benchmarkStage(b, m.model, stage, m.eps) })
		}
	}
}

// deployedScorer is the Scorer of the deployed model in benchmarks: the
// interpreter, unless a cgo build's init sets ONNX Runtime.
var deployedScorer = func(b *testing.B, model string, m *Model) Scorer {
	return m.Score
}

func benchmarkStage(b *testing.B, model, stage string, eps float64) {
	const n = 32
	m := loadModel(b, model+".onnx", dataset.Preprocess{})
	var x []float32
	if model == "fmnist_cnn" {
		x, _ = testfiles.FashionSlice(b, n)
	} else {
		rng := rand.New(rand.NewPCG(1, 2))
		x = make([]float32, n*m.Per())
		for i := range x {
			x[i] = rng.Float32()
		}
	}
	logits, k, err := m.Logits(nil, x, n)
	if err != nil {
		b.Fatal(err)
	}
	labels, idx := make([]int, n), make([]int, n)
	for i := range labels {
		labels[i], idx[i] = runtime.Argmax(logits[i*k:(i+1)*k]), i
	}
	a, err := NewAttacker(m, 1)
	if err != nil {
		b.Fatal(err)
	}
	f, err := Stage(stage)
	if err != nil {
		b.Fatal(err)
	}
	score := deployedScorer(b, model, m)
	env := &StageEnv{Attacker: a, Score: score, Classes: k, C: m.C, H: m.H, W: m.W, Norm: Linf, Eps: eps, Seed: 1}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f(context.Background(), env, x, labels, idx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
}
