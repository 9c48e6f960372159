package harden

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// threePasses is the update as the paper step took it before
// trainer.update, the reference it must match: each gradient averaged
// with its half in place (a missing half is zeros), the optimizer's Step,
// then every weight checked.
func threePasses(o Optimizer, data, grads, half [][]float32, lr float64) (param, at int) {
	for i, g := range grads {
		if g == nil || half == nil {
			continue
		}
		h := half[i]
		if h == nil {
			h = make([]float32, len(g))
		}
		forChunks(len(g), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				g[j] = (g[j] + h[j]) / 2
			}
		})
	}
	o.Step(data, grads, lr)
	for i, d := range data {
		if j := firstNonFinite(d); j >= 0 {
			return i, j
		}
	}
	return -1, -1
}

// TestUpdate checks the fused update, mean and check in the optimizer's
// pass, against the three passes it replaced, bit for bit, for both
// optimizers, with and without a second half, on weights small and cut
// into chunks, one of them without a gradient (running statistics); and
// that it names the first weight left NaN or infinite, whichever chunk or
// parameter it is in, after updating every weight.
func TestUpdate(t *testing.T) {
	// Parameter 3 is cut in two chunks at minChunk+1 (two cores or more).
	sizes := []int{13, 3*minChunk + 7, 64, 2*minChunk + 1}
	for _, test := range []struct {
		name       string
		poison     [][2]int // parameter, element
		param, at  int
		noGradient int     // a parameter without a gradient, or -1
		noHalf     int     // a parameter with a gradient but no second half, or -1
		lr         float64 // 0: 1e-3
	}{
		{"finite", nil, -1, -1, -1, -1, 0},
		{"running statistics", nil, -1, -1, 2, -1, 0},
		{"no second half", nil, -1, -1, -1, 1, 0},
		{"first chunk", [][2]int{{1, 9}}, 1, 9, -1, -1, 0},
		{"later chunk wins over later parameter", [][2]int{{1, 2*minChunk + 3}, {3, 0}}, 1, 2*minChunk + 3, -1, -1, 0},
		{"lowest of two chunks", [][2]int{{3, minChunk + 4}, {3, minChunk - 5}}, 3, minChunk - 5, -1, -1, 0},
		{"past the assembly's body", [][2]int{{0, 11}}, 0, 11, -1, -1, 0},
		{"weight without a gradient", [][2]int{{2, 63}, {3, 5}}, 2, 63, 2, -1, 0},
		{"the step overflows", nil, 0, 0, -1, -1, 1e39},
	} {
		for _, opt := range []string{"adamw", "sgd"} {
			for _, halved := range []bool{false, true} {
				var got [2][][]float32
				var param, at [2]int
				for k, plain := range []bool{false, true} {
					got[k], param[k], at[k] = runUpdate(opt, plain, halved, sizes, test.poison, test.noGradient, test.noHalf, test.lr)
				}
				name := test.name + "/" + opt
				if halved {
					name += "/halved"
				}
				if param[0] != test.param || at[0] != test.at || param[1] != test.param || at[1] != test.at {
					t.Errorf("%s: first non-finite weight %d[%d] fused, %d[%d] in three passes; want %d[%d]", name, param[0], at[0], param[1], at[1], test.param, test.at)
				}
				for i := range sizes {
					for j := range got[0][i] {
						a, b := got[0][i][j], got[1][i][j]
						if math.Float32bits(a) != math.Float32bits(b) {
							t.Fatalf("%s: weight %d[%d] is %g fused, %g in three passes", name, i, j, a, b)
						}
					}
				}
			}
		}
	}
}

// runUpdate takes two steps of trainer.update at rate lr (0: 1e-3) with
// optimizer opt, or of threePasses where plain, on random weights of sizes
// poisoned at poison (a NaN or an infinity), each step on the same fresh
// gradients and, where halved, their second halves; parameter noGradient,
// where not -1, has no gradient, parameter noHalf no second half. It
// returns the weights and the first non-finite weight reported.
func runUpdate(opt string, plain, halved bool, sizes []int, poison [][2]int, noGradient, noHalf int, lr float64) (data [][]float32, param, at int) {
	if lr == 0 {
		lr = 1e-3
	}
	rng := rand.New(rand.NewPCG(1, 2))
	tr := &trainer{}
	if opt == "adamw" {
		tr.opt = NewAdamW(0.01)
	} else {
		tr.opt = &SGDM{Momentum: 0.9, WeightDecay: 0.01}
	}
	grads, half := make([][]float32, len(sizes)), make([][]float32, len(sizes))
	for i, n := range sizes {
		w, g, h := make([]float32, n), make([]float32, n), make([]float32, n)
		for j := range w {
			w[j], g[j], h[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		tr.data = append(tr.data, w)
		if i != noGradient {
			grads[i], half[i] = g, h
		}
		if i == noHalf {
			half[i] = nil
		}
	}
	for _, p := range poison {
		tr.data[p[0]][p[1]] = []float32{float32(math.NaN()), float32(math.Inf(1))}[p[1]%2]
	}
	if !halved {
		half = nil
	}
	// The second step runs on the optimizer's state; the three passes
	// average in place, so each step gets the gradients afresh.
	fresh := make([][]float32, len(grads))
	for i, g := range grads {
		fresh[i] = slices.Clone(g)
	}
	for range 2 {
		for i, g := range fresh {
			copy(grads[i], g)
		}
		if plain {
			param, at = threePasses(tr.opt, tr.data, grads, half, lr)
		} else {
			param, at = tr.update(grads, half, lr)
		}
	}
	return tr.data, param, at
}

// BenchmarkUpdate is the paper step's update of ResNet-50's 25.5M weights
// (108 tensors, BatchNorm folded as the export folds it) with
// AdamW from two halves' gradients: "fused", the mean and the check in
// the optimizer's pass; "passes", the three passes it replaced.
//
//	go test -run '^$' -bench Update -count 5 ./harden/
func BenchmarkUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var data, grads, half [][]float32
	for _, n := range resnet50Sizes() {
		w, g, h := make([]float32, n), make([]float32, n), make([]float32, n)
		for j := range w {
			w[j], g[j], h[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		data, grads, half = append(data, w), append(grads, g), append(half, h)
	}
	for _, name := range []string{"fused", "passes"} {
		b.Run(name, func(b *testing.B) {
			tr := &trainer{opt: NewAdamW(0.01), data: data}
			for b.Loop() {
				if name == "passes" {
					threePasses(tr.opt, tr.data, grads, half, 1e-9)
				} else {
					tr.update(grads, half, 1e-9)
				}
			}
		})
	}
}

// resnet50Sizes are the sizes of ResNet-50's weights as torchvision's
// export folds BatchNorm into the convolutions: each convolution's weight
// and bias, then the classifier's.
func resnet50Sizes() []int {
	var sizes []int
	conv := func(out, in, k int) { sizes = append(sizes, out*in*k*k, out) }
	conv(64, 3, 7)
	in := 64
	for stage, blocks := range []int{3, 4, 6, 3} {
		width := 64 << stage
		for block := range blocks {
			conv(width, in, 1)
			conv(width, width, 3)
			conv(4*width, width, 1)
			if block == 0 {
				conv(4*width, in, 1)
			}
			in = 4 * width
		}
	}
	return append(sizes, 1000*2048, 1000)
}
