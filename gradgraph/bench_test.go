//go:build cgo

package gradgraph

import (
	"errors"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// BenchmarkGradGraph times the FGSM step (forward pass, loss and input
// gradient on one batch) with the gradient graph on ONNX Runtime and with
// the interpreter, beside ONNX Runtime's forward pass on the same batch,
// alternating the three so that load from elsewhere falls on all alike. It
// reports images/s of each and the two gradient engines' ratios to the
// forward pass: the figures the --grad-engine auto rule is drawn from.
//
//	go test -run '^$' -bench 'GradGraph/(resnet50|mnist)' -benchtime 3x ./gradgraph/
func BenchmarkGradGraph(b *testing.B) {
	b.Run("mnist", func(b *testing.B) { benchmarkGradGraph(b, "../testdata/models/bench_mnist.onnx", 128) })
	b.Run("cifar", func(b *testing.B) { benchmarkGradGraph(b, "../testdata/models/bench_cifar.onnx", 128) })
	for _, a := range testfiles.Archs {
		b.Run(a.Name, func(b *testing.B) { benchmarkGradGraph(b, testfiles.ArchPath(b, a), a.Batch) })
	}
}

func benchmarkGradGraph(b *testing.B, file string, batch int) {
	if _, err := ort.FindLibrary(""); err != nil {
		b.Skipf("ONNX Runtime is not installed: %v", err)
	}
	m, err := onnx.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	p, err := interp.Compile(m, nil)
	if err != nil {
		b.Fatal(err)
	}
	g, err := Build(m, nil)
	if err != nil {
		b.Fatal(err)
	}
	opt := &ort.Options{Device: ort.DeviceCPU}
	e, err := NewEngine(g, opt)
	if errors.Is(err, ort.ErrNoCgo) {
		b.Skip(err)
	} else if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	// The forward pass is the model itself in a session like the graph's.
	data, err := m.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	fwd, err := ort.OpenGraph(data, []string{g.Input}, g.Outputs[:1], opt)
	if err != nil {
		b.Fatal(err)
	}
	defer fwd.Close()

	x, labels := ortbench.RandomBatch(p, batch)
	xs := append([]int64{int64(batch)}, e.sample...)
	paths := []func() error{
		func() error { _, _, _, err := e.LossGrad(x.Data, labels, batch); return err },
		func() error {
			r, err := p.Grad(x, labels, interp.Want{Input: true})
			if err == nil {
				r.Release()
			}
			return err
		},
		func() error { _, err := fwd.Run([]ort.Tensor{{Shape: xs, Float: x.Data}}); return err },
	}
	var spent [3]time.Duration
	for _, run := range paths { // warm-up, outside the clock
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		for i, run := range paths {
			start := time.Now()
			if err := run(); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
	}
	b.StopTimer()
	rate := func(d time.Duration) float64 { return float64(b.N*batch) / d.Seconds() }
	b.ReportMetric(rate(spent[0]), "graph-img/s")
	b.ReportMetric(rate(spent[1]), "interp-img/s")
	b.ReportMetric(rate(spent[2]), "ort-img/s")
	b.ReportMetric(rate(spent[0])/rate(spent[2]), "graph/ort")
	b.ReportMetric(rate(spent[1])/rate(spent[2]), "interp/ort")
}
