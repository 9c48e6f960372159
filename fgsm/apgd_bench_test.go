package fgsm

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime"
)

// Each benchmark runs one APGD stage, at the reference's settings (100
// iterations; APGD-T over 9 targets), on 32 samples labelled with the
// model's own clean classes, so that every sample is attacked; samples
// leave the batch once broken, as in an audit. samples/s is the stage's
// throughput: go test -run '^$' -bench APGD ./fgsm/
func BenchmarkAPGDCEFashion(b *testing.B)  { benchmarkStage(b, "fmnist_cnn", "apgd-ce", 0.1) }
func BenchmarkAPGDDLRFashion(b *testing.B) { benchmarkStage(b, "fmnist_cnn", "apgd-dlr", 0.1) }
func BenchmarkAPGDTFashion(b *testing.B)   { benchmarkStage(b, "fmnist_cnn", "apgd-t", 0.1) }
func BenchmarkAPGDCECIFAR(b *testing.B)    { benchmarkStage(b, "bench_cifar", "apgd-ce", 8.0/255) }
func BenchmarkAPGDDLRCIFAR(b *testing.B)   { benchmarkStage(b, "bench_cifar", "apgd-dlr", 8.0/255) }
func BenchmarkAPGDTCIFAR(b *testing.B)     { benchmarkStage(b, "bench_cifar", "apgd-t", 8.0/255) }

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
	score := func(dst, x []float32, n int) ([]float32, error) {
		dst, _, err := m.Logits(dst, x, n)
		return dst, err
	}
	env := &StageEnv{Attacker: a, Score: score, Classes: k, C: m.C, H: m.H, W: m.W, Norm: Linf, Eps: eps, Seed: 1}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f(context.Background(), env, x, labels, idx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
}
