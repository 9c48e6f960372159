//go:build cgo

package gradengine

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/onnxguard/onnxguard/internal/ortbench"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// BenchmarkAuto times the FGSM step (forward pass, loss and input gradient
// of one batch) on the engine --grad-engine auto opens for each model,
// beside ONNX Runtime's forward pass on the same batch: the figure issue
// 19's speed targets are set on (batch 16 on the deployed architectures,
// 128 on the benchmark CNNs). The sub-benchmark's name ends in the engine
// auto chose; a line "auto: MODEL kernels-off ENGINE" says which engine it
// chooses when the interpreter's vector kernels are off (a CPU without
// AVX-512F), which scripts/benchtable.awk puts beside it.
//
//	go test -run '^$' -bench 'Auto/resnet50' -benchtime 2x ./gradengine/
func BenchmarkAuto(b *testing.B) {
	for _, name := range []string{"bench_mnist", "bench_cifar"} {
		b.Run(name, func(b *testing.B) {
			benchmarkAuto(b, name, filepath.Join("..", "testdata", "models", name+".onnx"), 128)
		})
	}
	for _, a := range testfiles.Archs {
		b.Run(a.Name, func(b *testing.B) { benchmarkAuto(b, a.Name, testfiles.ArchPath(b, a), 16) })
	}
}

func benchmarkAuto(b *testing.B, name, file string, batch int) {
	if _, err := ort.FindLibrary(""); err != nil {
		b.Skipf("ONNX Runtime is not installed: %v", err)
	}
	m, err := onnx.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	off, err := interp.Compile(m, &interp.Options{Kernels: interp.KernelsOff})
	if err != nil {
		b.Fatal(err)
	}
	kind, _ := Prefer(off)
	fmt.Printf("auto: %s kernels-off %s\n", name, map[Kind]string{Interp: "interpreter", ORT: "onnxruntime-graph/cpu"}[kind])
	p, err := interp.Compile(m, nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := Open(m, p, Options{Kind: Auto, ORT: &ort.Options{Device: ort.DeviceCPU}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if e.Fallback {
		b.Fatalf("auto fell back to the interpreter: %s", e.Reason)
	}
	x, labels := ortbench.RandomBatch(p, batch)
	b.Run(e.Name(), func(b *testing.B) {
		sess := ortbench.Session(b, file)
		ortbench.BesideAs(b, sess, x.Data, batch, "auto", func() error {
			r, err := e.Grad(x, labels, interp.Want{Input: true})
			if err == nil {
				r.Release()
			}
			return err
		})
	})
}
