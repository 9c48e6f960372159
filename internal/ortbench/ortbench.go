// Package ortbench times a path of onnxguard beside ONNX Runtime's CPU
// forward pass on the same model and batch, in the same run, for the
// benchmarks that make bench tabulates. It is imported only by _test files.
//
// A benchmark opens the model in ONNX Runtime with Session (which skips it
// where ONNX Runtime is not installed) and hands Beside the work of one
// step and the batch it covers; Beside alternates the two and reports the
// metrics scripts/benchtable.awk reads: interp-img/s, ort-img/s and
// interp/ort. Figures are ratios because the machines they run on are
// shared and absolute times drift; run side by side, drift falls on both.
package ortbench

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

var (
	sessions  = map[string]*ort.Session{}
	printBLAS sync.Once
)

// Session returns an ONNX Runtime session on the CPU for the model file,
// opened once per process and shared by every benchmark of that model. It
// skips b where ONNX Runtime is not installed or cgo is off.
func Session(b *testing.B, file string) *ort.Session {
	b.Helper()
	if s, ok := sessions[file]; ok {
		return s
	}
	if _, err := ort.FindLibrary(""); err != nil {
		b.Skipf("skipping the interpreter/ONNX Runtime comparison: ONNX Runtime is not installed: %v", err)
	}
	s, err := ort.Open(file, &ort.Options{Device: ort.DeviceCPU})
	if errors.Is(err, ort.ErrNoCgo) {
		b.Skipf("skipping the interpreter/ONNX Runtime comparison: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	sessions[file] = s
	return s
}

// Beside times step, the interpreter's work on a batch of n images, beside
// sess's forward pass on x, those n images, and reports both throughputs in
// images per second and their ratio. step may do more than a forward pass
// (a gradient, a training step); the images counted are n per call.
func Beside(b *testing.B, sess *ort.Session, x []float32, n int, step func() error) {
	b.Helper()
	// The table make bench prints names the BLAS behind the interpreter.
	printBLAS.Do(func() { fmt.Printf("blas: %s\n", ops.BLAS()) })

	var (
		logits []float32
		err    error
	)
	ortRun := func() {
		if logits, _, err = sess.Run(logits, x, n); err != nil {
			b.Fatal(err)
		}
	}
	// A run of each before the clock starts warms caches and allocators,
	// fails early and sizes ortRuns: ONNX Runtime's batches are many times
	// shorter, and are timed over a span like the interpreter's.
	start := time.Now()
	if err := step(); err != nil {
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
		if err := step(); err != nil {
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

	images := float64(b.N * n)
	interpRate, ortRate := images/interpTime.Seconds(), images*float64(ortRuns)/ortTime.Seconds()
	b.ReportMetric(interpRate, "interp-img/s")
	b.ReportMetric(ortRate, "ort-img/s")
	b.ReportMetric(interpRate/ortRate, "interp/ort")
}
