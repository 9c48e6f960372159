//go:build cgo

package interp_test

import (
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Each benchmark times one path of the interpreter beside ONNX Runtime's
// forward pass on the same model and batch (internal/ortbench); make bench
// tabulates them.
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
	_, err := p.Run(x)
	return err
}

func fgsm(p *interp.Program, x *interp.Tensor, labels []int) error {
	r, err := p.Grad(x, labels, interp.Want{Input: true})
	r.Release() // as an attack does once it has taken its step (fgsm.Model)
	return err
}

func train(p *interp.Program, x *interp.Tensor, labels []int) error {
	_, err := p.Grad(x, labels, interp.Want{Mode: interp.Mode{Training: true}, Params: true})
	return err
}

// programs holds each model compiled once for every benchmark that uses it.
var programs = map[string]*interp.Program{}

// BenchmarkArch runs the forward pass, the FGSM step and the weight
// gradient of the deployed architectures (internal/testfiles.Archs,
// exported by testdata/make_arch_models.py, 224×224) beside ONNX Runtime:
//
//	go test -run '^$' -bench 'Arch/resnet50/' -benchtime 2x ./runtime/interp/
func BenchmarkArch(b *testing.B) {
	for _, a := range testfiles.Archs {
		for _, p := range []struct {
			name string
			run  path
		}{{"forward", forward}, {"fgsm", fgsm}, {"train", train}} {
			b.Run(a.Name+"/"+p.name, func(b *testing.B) { benchmarkFile(b, testfiles.ArchPath(b, a), p.run, a.Batch) })
		}
	}
}

func benchmarkPath(b *testing.B, model string, run path, batch int) {
	benchmarkFile(b, filepath.Join("..", "..", "testdata", "models", model+".onnx"), run, batch)
}

func benchmarkFile(b *testing.B, file string, run path, batch int) {
	sess := ortbench.Session(b, file)
	model := file
	prog, ok := programs[model]
	if !ok {
		m, err := onnx.Load(file)
		if err != nil {
			b.Fatal(err)
		}
		if prog, err = interp.Compile(m, nil); err != nil {
			b.Fatal(err)
		}
		programs[model] = prog
	}

	x, labels := ortbench.RandomBatch(prog, batch)
	ortbench.Beside(b, sess, x.Data, batch, func() error { return run(prog, x, labels) })
}
