package interp

import (
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
