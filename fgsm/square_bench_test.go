package fgsm

import (
	"context"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime"
)

// Square's queries per second: 100 samples a Scorer call, at an ε too
// small to break any, so that every iteration queries all of them.
func BenchmarkSquareInterpFashion(b *testing.B) {
	benchmarkSquare(b, loadModel(b, "fmnist_cnn.onnx", dataset.Preprocess{}).Score)
}

// BenchmarkSquareProposals is Square's own cost: a Scorer that reads
// nothing and says every sample is class 0.
func BenchmarkSquareProposals(b *testing.B) {
	benchmarkSquare(b, func(dst, x []float32, n int) ([]float32, error) {
		dst = grow(dst, n*10)
		clear(dst)
		for i := range n {
			dst[i*10] = 1
		}
		return dst, nil
	})
}

func benchmarkSquare(b *testing.B, score Scorer) {
	const n, iters = 100, 20
	x, _ := testfiles.FashionSlice(b, n)
	labels := make([]int, n) // every sample is class 0 for the proposals' Scorer
	out, err := score(nil, x, n)
	if err != nil {
		b.Fatal(err)
	}
	idx := make([]int, n)
	for i := range n {
		labels[i], idx[i] = runtime.Argmax(out[i*10:(i+1)*10]), i
	}
	queries := 0
	for _, norm := range []Norm{Linf, L2} {
		b.Run(string(norm), func(b *testing.B) {
			env := &StageEnv{Score: score, Classes: 10, C: 1, H: 28, W: 28, Norm: norm, Eps: 1e-4, Seed: 1, Iters: iters}
			f, _ := Stage("square")
			queries = 0
			for b.Loop() {
				res, err := f(context.Background(), env, x, labels, idx)
				if err != nil {
					b.Fatal(err)
				}
				for _, q := range res.Queries {
					queries += q
				}
			}
			b.ReportMetric(float64(queries)/b.Elapsed().Seconds(), "queries/s")
		})
	}
}
