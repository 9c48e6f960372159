package interp

import (
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestRelease checks that a released input gradient's storage serves the
// next run (a gradient step then allocates about the gradient's size
// less) and that the next run's results do not change for it.
func TestRelease(t *testing.T) {
	p := loadProgram(t, "fmnist_cnn")
	x := fashionSlice(t, 8)
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7}
	r, err := p.Grad(x, labels, Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(r.Input.Data)
	r.Release()
	if r.Input != nil {
		t.Fatal("Release left r.Input set")
	}
	r.Release() // a second call is harmless
	for range 3 {
		r, err = p.Grad(x, labels, Want{Input: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Input.Data, want) {
			t.Fatal("the input gradient changed after a Release")
		}
		r.Release()
	}
	perRun := func(release bool) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 50
		for range runs {
			r, err := p.Grad(x, labels, Want{Input: true})
			if err != nil {
				t.Fatal(err)
			}
			if release {
				r.Release()
			}
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / runs
	}
	kept, released := perRun(false), perRun(true)
	if size := uint64(4 * len(want)); kept < released+size {
		t.Errorf("a gradient step allocates %d bytes, %d with Release: not the gradient's %d less", kept, released, size)
	}
}

// TestReleaseWeightGradients: a released result's weight gradients serve
// the next run's, and runs after a Release, and after other runs (whose
// Relu, Clip and fused masks reuse the node's storage), give what a
// fresh program gives, bit for bit; a result not released is not
// written by later runs. The programs' pools poison what they take back.
func TestReleaseWeightGradients(t *testing.T) {
	for _, name := range []string{"fmnist_cnn", "mnv2_blocks", "resblock"} {
		t.Run(name, func(t *testing.T) {
			p := loadProgram(t, name)
			p.buffers.Poison = true
			x1 := readNpyOrFashion(t, p, name)
			x2 := &Tensor{Shape: x1.Shape, Data: slices.Clone(x1.Data)}
			for i := range x2.Data {
				x2.Data[i] = 1 - x2.Data[i]
			}
			labels := make([]int, x1.Shape[0])
			for i := range labels {
				labels[i] = (3*i + 1) % 10
			}
			for _, want := range []Want{{Input: true, Params: true}, {Mode: Mode{Training: true}, Params: true}} {
				fresh := func(x *Tensor) *Result {
					r, err := loadProgram(t, name).Grad(x, labels, want)
					if err != nil {
						t.Fatal(err)
					}
					return r
				}
				r := gradOf(t, p, x1, labels, want)
				sameResult(t, "the first run", r, fresh(x1))
				logits, weights := slices.Clone(r.Logits.Data), weightsOf(p)
				released := map[*float32]bool{}
				for _, g := range r.Params {
					if g != nil {
						released[&g.Data[0]] = true
					}
				}
				r.Release()
				if r.Params != nil || r.Input != nil {
					t.Fatal("Release left gradients in the result")
				}
				// The logits stay the caller's, the weights the model's.
				if r.Logits == nil || !slices.Equal(r.Logits.Data, logits) {
					t.Error("Release took back the logits")
				}
				for i, w := range weightsOf(p) {
					if !slices.Equal(w, weights[i]) {
						t.Errorf("Release wrote into weight %q", p.Params()[i].Name)
					}
				}
				kept := gradOf(t, p, x2, labels, want)
				sameResult(t, "a run after a Release", kept, fresh(x2))
				reused := 0
				for _, g := range kept.Params {
					if g != nil && released[&g.Data[0]] {
						reused++
					}
				}
				if reused == 0 {
					t.Error("no weight gradient of the run after a Release took a released one's storage")
				}
				snapshot := cloneParams(kept)
				later := gradOf(t, p, x1, labels, want)
				sameResult(t, "a run after one not released", later, fresh(x1))
				for i, g := range kept.Params {
					if g != nil && !slices.Equal(g.Data, snapshot[i]) {
						t.Errorf("weight gradient %d of a result not released changed in a later run", i)
					}
				}
				later.Release()
				kept.Release()
			}
		})
	}
}

func gradOf(t *testing.T, p *Program, x *Tensor, labels []int, want Want) *Result {
	t.Helper()
	r, err := p.Grad(x, labels, want)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// readNpyOrFashion returns the model's committed input, or Fashion-MNIST
// images for fmnist_cnn.
func readNpyOrFashion(t *testing.T, p *Program, name string) *Tensor {
	if name == "fmnist_cnn" {
		return fashionSlice(t, 4)
	}
	return readNpy(t, filepath.Join(modelDir, name+".input.npy"))
}

// sameResult checks that a and b hold the same loss and gradients, to the
// bit.
func sameResult(t *testing.T, what string, a, b *Result) {
	t.Helper()
	if a.Loss != b.Loss || (a.Input == nil) != (b.Input == nil) || a.Input != nil && !slices.Equal(a.Input.Data, b.Input.Data) {
		t.Errorf("%s: loss %v or input gradient differ from a fresh program's (loss %v)", what, a.Loss, b.Loss)
	}
	for i := range a.Params {
		if (a.Params[i] == nil) != (b.Params[i] == nil) || a.Params[i] != nil && !slices.Equal(a.Params[i].Data, b.Params[i].Data) {
			t.Errorf("%s: weight gradient %d differs from a fresh program's", what, i)
		}
	}
}

// weightsOf returns a copy of p's weights.
func weightsOf(p *Program) [][]float32 {
	out := make([][]float32, len(p.Params()))
	for i, prm := range p.Params() {
		out[i] = slices.Clone(prm.T.Data)
	}
	return out
}

func cloneParams(r *Result) [][]float32 {
	out := make([][]float32, len(r.Params))
	for i, g := range r.Params {
		if g != nil {
			out[i] = slices.Clone(g.Data)
		}
	}
	return out
}
