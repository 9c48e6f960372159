package harden

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/fgsm"
)

// TestForChunks: every index is visited once, for lengths around the
// chunk size.
func TestForChunks(t *testing.T) {
	for _, n := range []int{0, 1, minChunk - 1, minChunk, 2*minChunk + 3, 5*minChunk + 7} {
		seen := make([]int32, n)
		forChunks(n, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				seen[j]++
			}
		})
		for j, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, j, c)
			}
		}
	}
}

func TestFirstNonFinite(t *testing.T) {
	n := 4*minChunk + 9
	for _, test := range []struct {
		bad  []int
		want int
	}{
		{nil, -1},
		{[]int{0}, 0},
		{[]int{n - 1}, n - 1},
		{[]int{3*minChunk + 1, minChunk + 5}, minChunk + 5},
		{[]int{2 * minChunk, 2*minChunk + 1, n - 2}, 2 * minChunk},
	} {
		// Finite extremes everywhere else: none of them is a find.
		d := make([]float32, n)
		finite := []float32{0, float32(math.Copysign(0, -1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1}
		for j := range d {
			d[j] = finite[j%len(finite)]
		}
		for k, j := range test.bad {
			d[j] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[k%3]
		}
		if got := firstNonFinite(d); got != test.want {
			t.Errorf("non-finite at %v: got %d, want %d", test.bad, got, test.want)
		}
	}
}

// TestOptimizersChunked: AdamW and SGD update a weight large enough to be
// cut into chunks to the same bits as on one goroutine.
func TestOptimizersChunked(t *testing.T) {
	n := 3*minChunk + 5
	rng := rand.New(rand.NewPCG(1, 2))
	w0, g := make([]float32, n), make([]float32, n)
	for j := range w0 {
		w0[j], g[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for _, name := range []string{"adamw", "sgd"} {
		run := func(procs int) []float32 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			var o Optimizer = NewAdamW(0.01)
			if name == "sgd" {
				o = &SGDM{Momentum: 0.9, WeightDecay: 5e-4}
			}
			w := slices.Clone(w0)
			for range 3 {
				o.Step([][]float32{w}, [][]float32{g}, 0.01)
			}
			return w
		}
		one, many := run(1), run(4)
		if !slices.Equal(one, many) {
			t.Errorf("%s: chunked update differs from the serial one", name)
		}
		if slices.Equal(one, w0) {
			t.Errorf("%s: no update", name)
		}
	}
}

// TestPixelStep: the batch's step cut into chunks is fgsm.Step's, to the
// bit.
func TestPixelStep(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // chunks even on one core
	n := 3*minChunk + 11
	rng := rand.New(rand.NewPCG(3, 4))
	x, g := make([]float32, n), make([]float32, n)
	for j := range x {
		x[j], g[j] = rng.Float32(), float32(rng.NormFloat64())
	}
	want := slices.Clone(x)
	fgsm.Step(want, x, g, 1, 0.03, 0.05)
	got := slices.Clone(x)
	pixelStep(got, x, g, 0.03, 0.05)
	for j := range got {
		if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
			t.Fatalf("pixel %d: %v, want %v", j, got[j], want[j])
		}
	}
}
