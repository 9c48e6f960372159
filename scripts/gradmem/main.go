// Command gradmem measures what an FGSM step's gradient pass costs the
// interpreter on a model: it compiles the model, runs the input gradient
// of a seeded random batch a few times and prints, after each pass, its
// time and the process's peak and current resident memory (Linux's VmHWM
// and VmRSS). Nothing else runs in the process, so the peak is the
// interpreter's. It collects garbage at the CLI's setting (GOGC 25) unless
// GOGC says otherwise.
//
//	go run ./scripts/gradmem ~/.cache/onnxguard/arch-models/resnet50.onnx 16 3
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gradmem:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 || len(args) > 3 {
		return fmt.Errorf("usage: gradmem MODEL.onnx [BATCH [PASSES]]")
	}
	batch, passes := 16, 3
	var err error
	if len(args) > 1 {
		if batch, err = strconv.Atoi(args[1]); err != nil || batch < 1 {
			return fmt.Errorf("batch %q: want a positive whole number", args[1])
		}
	}
	if len(args) > 2 {
		if passes, err = strconv.Atoi(args[2]); err != nil || passes < 1 {
			return fmt.Errorf("passes %q: want a positive whole number", args[2])
		}
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(25)
	}
	m, err := onnx.Load(args[0])
	if err != nil {
		return err
	}
	p, err := interp.Compile(m, &interp.Options{Seed: 1, MaxMemory: 20 << 30})
	if err != nil {
		return err
	}
	m = nil
	debug.FreeOSMemory()
	fmt.Printf("compiled %s: %s\n", args[0], memory())
	shape, n := []int{batch}, batch
	for _, d := range p.Input.Shape[1:] {
		if d <= 0 {
			return fmt.Errorf("the input %s has a dynamic dimension besides the batch: %v", p.Input.Name, p.Input.Shape)
		}
		shape, n = append(shape, int(d)), n*int(d)
	}
	x := &interp.Tensor{Shape: shape, Data: make([]float32, n)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	for i := range passes {
		start := time.Now()
		r, err := p.Grad(x, labels, interp.Want{Input: true})
		if err != nil {
			return err
		}
		r.Release()
		fmt.Printf("pass %d, batch %d: %.2f s, %s\n", i+1, batch, time.Since(start).Seconds(), memory())
	}
	return nil
}

// memory returns the process's peak and current resident memory.
func memory() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "memory unknown (no /proc/self/status)"
	}
	var peak, now string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			now = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("peak RSS %s, now %s", kib(peak), kib(now))
}

// kib turns "123456 kB" into GiB.
func kib(s string) string {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, " kB"), 64)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%.2f GiB", v/(1<<20))
}
