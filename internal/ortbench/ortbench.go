// Package ortbench times a path of onnxguard beside ONNX Runtime's CPU
// forward pass on the same model and batch, in the same run, for the
// benchmarks that make bench tabulates. It is imported only by _test files.
//
// A benchmark opens the model in ONNX Runtime with Session (which skips it
// where ONNX Runtime is not installed) and hands Beside the work of one
// step and the batch it covers; Beside alternates the two and reports the
// metrics scripts/benchtable.awk reads: interp-img/s, ort-img/s,
// interp/ort and the batch. Figures are ratios because the machines they run on are
// shared and absolute times drift; run side by side, drift falls on both.
package ortbench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

var (
	sessions  = map[string]*Sessions{}
	printBLAS sync.Once
)

// Sessions are two ONNX Runtime sessions on the CPU for one model: one
// whose threads spin, waiting for work, after a run, as ONNX Runtime's
// own default has it, and one whose threads sleep, as onnxguard opens
// them. Spinning makes ONNX Runtime's back-to-back runs faster (by some
// 10% on the MNIST benchmark model), but the spinning threads go on
// taking cores for milliseconds after a run, which slowed an interpreter
// step timed after them by a third. So Beside alternates the interpreter
// with the sleeping session, times the spinning one afterwards, and
// credits ONNX Runtime with the faster of the two.
type Sessions struct{ spin, still *ort.Session }

// Session returns the sessions for the model file, opened once per
// process and shared by every benchmark of that model. It skips b where
// ONNX Runtime is not installed or cgo is off.
func Session(b *testing.B, file string) *Sessions {
	b.Helper()
	if s, ok := sessions[file]; ok {
		return s
	}
	if _, err := ort.FindLibrary(""); err != nil {
		b.Skipf("skipping the interpreter/ONNX Runtime comparison: ONNX Runtime is not installed: %v", err)
	}
	var s Sessions
	for _, spin := range []bool{true, false} {
		sess, err := ort.Open(file, &ort.Options{Check: interp.PreflightCheck, Device: ort.DeviceCPU, Spin: spin})
		if errors.Is(err, ort.ErrNoCgo) {
			b.Skipf("skipping the interpreter/ONNX Runtime comparison: %v", err)
		}
		if err != nil {
			b.Fatal(err)
		}
		if spin {
			s.spin = sess
		} else {
			s.still = sess
		}
	}
	sessions[file] = &s
	return &s
}

// Beside times step, the interpreter's work on a batch of n images, beside
// ONNX Runtime's forward pass on x, those n images, and reports both
// throughputs in images per second and their ratio. step may do more than
// a forward pass (a gradient, a training step); the images counted are n
// per call.
func Beside(b *testing.B, sess *Sessions, x []float32, n int, step func() error) {
	b.Helper()
	BesideAs(b, sess, x, n, "interp", step)
}

// BesideAs is Beside for a step that is not the interpreter's alone (the
// engine --grad-engine auto opens, say): its metrics are name-img/s,
// ort-img/s and name/ort.
func BesideAs(b *testing.B, sess *Sessions, x []float32, n int, name string, step func() error) {
	b.Helper()
	// The table make bench prints names the BLAS behind the interpreter.
	printBLAS.Do(func() { fmt.Printf("blas: %s\n", ops.BLAS()) })

	var logits []float32
	ortRun := func(s *ort.Session) {
		var err error
		if logits, _, err = s.Run(logits, x, n); err != nil {
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
	stepTime := time.Since(start)
	start = time.Now()
	ortRun(sess.still)
	ortRuns := min(max(1, int(stepTime/max(time.Since(start), 1))/2), 20)
	// The interpreter runs its steps back to back in rounds of about
	// 20 ms, as an attack's or a training run's steps follow one another
	// (its helper goroutines stay awake between steps, not between
	// rounds).
	round := max(1, int(20*time.Millisecond/max(stepTime, 1)))

	// Rounds of the interpreter and of the sleeping session alternate, so
	// that load from elsewhere on the machine falls on both alike; the
	// spinning session runs as many batches after them.
	var spinTime, stillTime time.Duration
	stepTime = 0
	b.ResetTimer()
	for done := 0; done < b.N; {
		steps := min(round, b.N-done)
		start := time.Now()
		for range steps {
			if err := step(); err != nil {
				b.Fatal(err)
			}
		}
		stepTime += time.Since(start)
		start = time.Now()
		for range steps * ortRuns {
			ortRun(sess.still)
		}
		stillTime += time.Since(start)
		done += steps
	}
	start = time.Now()
	for range b.N * ortRuns {
		ortRun(sess.spin)
	}
	spinTime = time.Since(start)
	b.StopTimer()

	images := float64(b.N * n)
	stepRate := images / stepTime.Seconds()
	ortRate := images * float64(ortRuns) / min(spinTime, stillTime).Seconds()
	b.ReportMetric(stepRate, name+"-img/s")
	b.ReportMetric(ortRate, "ort-img/s")
	b.ReportMetric(stepRate/ortRate, name+"/ort")
	// The batch, for the tables: the architectures' differ by model.
	b.ReportMetric(float64(n), "batch")
}

// RandomBatch returns batch images for p's input, uniform in [0, 1), and
// labels in [0, 10), from a generator seeded by the batch size: the data
// every benchmark beside ONNX Runtime runs on.
func RandomBatch(p *interp.Program, batch int) (*interp.Tensor, []int) {
	rng := rand.New(rand.NewPCG(1, uint64(batch)))
	shape := []int{batch}
	for _, d := range p.Input.Shape[1:] {
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
	return x, labels
}
