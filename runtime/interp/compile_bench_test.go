package interp_test

import (
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// The benchmark models loaded and compiled (parsing, shape inference,
// fusion): the performance issue wants under 100 ms.
func BenchmarkCompileMNIST(b *testing.B) { benchmarkCompile(b, "bench_mnist") }
func BenchmarkCompileCIFAR(b *testing.B) { benchmarkCompile(b, "bench_cifar") }

func benchmarkCompile(b *testing.B, name string) {
	file := filepath.Join("..", "..", "testdata", "models", name+".onnx")
	for b.Loop() {
		m, err := onnx.Load(file)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := interp.Compile(m, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/compile")
}
