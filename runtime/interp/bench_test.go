//go:build cgo

package interp_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// Each benchmark times one path of the interpreter and ONNX Runtime's
// forward pass on the same model and batch, alternating in the same run,
// and reports both throughputs and their ratio; make bench tabulates them.
//
// forward: inference. fgsm: the forward and input-gradient pass an FGSM or
// PGD step costs. train: the forward and every parameter's gradient.
func BenchmarkMNISTForward32(b *testing.B)  { benchmarkPath(b, "bench_mnist", forward, 32) }
func BenchmarkMNISTForward128(b *testing.B) { benchmarkPath(b, "bench_mnist", forward, 128) }
func BenchmarkMNISTFGSM32(b *testing.B)     { benchmarkPath(b, "bench_mnist", fgsm, 32) }
func BenchmarkMNISTFGSM128(b *testing.B)    { benchmarkPath(b, "bench_mnist", fgsm, 128) }
func BenchmarkMNISTTrain32(b *testing.B)    { benchmarkPath(b, "bench_mnist", train, 32) }
func BenchmarkMNISTTrain128(b *testing.B)   { benchmarkPath(b, "bench_mnist", train, 128) }
func BenchmarkCIFARForward32(b *testing.B)  { benchmarkPath(b, "bench_cifar", forward, 32) }
func BenchmarkCIFARForward128(b *testing.B) { benchmarkPath(b, "bench_cifar", forward, 128) }
func BenchmarkCIFARFGSM32(b *testing.B)     { benchmarkPath(b, "bench_cifar", fgsm, 32) }
func BenchmarkCIFARFGSM128(b *testing.B)    { benchmarkPath(b, "bench_cifar", fgsm, 128) }
func BenchmarkCIFARTrain32(b *testing.B)    { benchmarkPath(b, "bench_cifar", train, 32) }
func BenchmarkCIFARTrain128(b *testing.B)   { benchmarkPath(b, "bench_cifar", train, 128) }

// path is the interpreter's work on one batch.
type path func(p *interp.Program, x *interp.Tensor, labels []int) error

func forward(p *interp.Program, x *interp.Tensor, _ []int) error {
	p.Training = false
	_, err := p.Run(x)
	return err
}

func fgsm(p *interp.Program, x *interp.Tensor, labels []int) error {
	p.Training = false
	_, err := p.Grad(x, labels, interp.Want{Input: true})
	return err
}

func train(p *interp.Program, x *interp.Tensor, labels []int) error {
	p.Training = true
	_, err := p.Grad(x, labels, interp.Want{Params: true})
	return err
}

// benchModel is a model loaded once for every benchmark that uses it.
type benchModel struct {
	prog *interp.Program
	sess *ort.Session
}

var (
	benchModels  = map[string]*benchModel{}
	printBLAS    sync.Once
	errNoRuntime = errors.New("ONNX Runtime is not installed")
)

func loadBenchModel(name string) (*benchModel, error) {
	if m, ok := benchModels[name]; ok {
		return m, nil
	}
	if _, err := ort.FindLibrary(""); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoRuntime, err)
	}
	file := filepath.Join("..", "..", "testdata", "models", name+".onnx")
	m, err := onnx.Load(file)
	if err != nil {
		return nil, err
	}
	prog, err := interp.Compile(m, nil)
	if err != nil {
		return nil, err
	}
	sess, err := ort.Open(file, &ort.Options{Device: ort.DeviceCPU})
	if err != nil {
		return nil, err
	}
	benchModels[name] = &benchModel{prog: prog, sess: sess}
	return benchModels[name], nil
}

func benchmarkPath(b *testing.B, model string, run path, batch int) {
	m, err := loadBenchModel(model)
	if errors.Is(err, errNoRuntime) {
		b.Skipf("skipping the interpreter/ONNX Runtime comparison: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	// The table make bench prints names the BLAS behind the interpreter.
	printBLAS.Do(func() { fmt.Printf("blas: %s\n", ops.BLAS()) })

	rng := rand.New(rand.NewPCG(1, uint64(batch)))
	shape := []int{batch}
	for _, d := range m.prog.Input.Shape[1:] {
		shape = append(shape, int(d))
	}
	x := ops.NewFloat(shape...)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	var logits []float32
	ortRun := func() {
		if logits, _, err = m.sess.Run(logits, x.Data, batch); err != nil {
			b.Fatal(err)
		}
	}
	// A run of each before the clock starts warms caches and allocators,
	// fails early and sizes ortRuns: ONNX Runtime's batches are many times
	// shorter, and are timed over a span like the interpreter's.
	start := time.Now()
	if err := run(m.prog, x, labels); err != nil {
		b.Fatal(err)
	}
	interpTime := time.Since(start)
	start = time.Now()
	ortRun()
	ortRuns := min(max(1, int(interpTime/max(time.Since(start), 1))/2), 20)

	// The two alternate, so that load from elsewhere on the machine falls
	// on both alike.
	var ortTime time.Duration
	interpTime = 0
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := run(m.prog, x, labels); err != nil {
			b.Fatal(err)
		}
		interpTime += time.Since(start)
		start = time.Now()
		for range ortRuns {
			ortRun()
		}
		ortTime += time.Since(start)
	}
	b.StopTimer()

	images := float64(b.N * batch)
	interpRate, ortRate := images/interpTime.Seconds(), images*float64(ortRuns)/ortTime.Seconds()
	b.ReportMetric(interpRate, "interp-img/s")
	b.ReportMetric(ortRate, "ort-img/s")
	b.ReportMetric(interpRate/ortRate, "interp/ort")
}
