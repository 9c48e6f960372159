package interp

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFreezeBatchNorm checks that training mode with FreezeBatchNorm uses
// the running statistics (the logits match inference) and leaves them
// unchanged, while still giving every weight a gradient.
func TestFreezeBatchNorm(t *testing.T) {
	p := loadProgram(t, "resblock")
	x := readNpy(t, filepath.Join(modelDir, "resblock.input.npy"))
	before := paramValues(p)
	evalOut, err := p.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	p.Training, p.FreezeBatchNorm = true, true
	r, err := p.Grad(x, []int{0, 1, 2, 3}, Want{Params: true})
	p.Training, p.FreezeBatchNorm = false, false
	if err != nil {
		t.Fatal(err)
	}
	if e := maxRelErr(r.Logits.Data, evalOut[0].Data, 1e-2); e > 1e-6 {
		t.Errorf("frozen BatchNorm logits differ from inference by %g relative; want the running statistics used", e)
	}
	if !slices.Equal(paramValues(p), before) {
		t.Error("frozen BatchNorm changed the running statistics")
	}
	for i, prm := range p.Params() {
		if g := r.Params[i]; g == nil && !isRunningStat(prm.Name) {
			t.Errorf("%s: no gradient with frozen BatchNorm", prm.Name)
		}
	}
}

func isRunningStat(name string) bool {
	return strings.HasSuffix(name, "running_mean") || strings.HasSuffix(name, "running_var")
}

// TestReseed checks that Reseed(s) draws the Dropout masks a Program
// compiled with Seed s draws, whatever was drawn before.
func TestReseed(t *testing.T) {
	x := readNpy(t, filepath.Join(modelDir, "dropout.input.npy"))
	labels := []int{1, 2, 3, 4}
	step := func(p *Program) []float32 {
		p.Training = true
		r, err := p.Grad(x, labels, Want{Params: true})
		if err != nil {
			t.Fatal(err)
		}
		return r.Logits.Data
	}
	fresh := loadProgram(t, "dropout") // compiled with Seed 1
	want := step(fresh)
	used := loadProgram(t, "dropout")
	used.Reseed(7)
	other := step(used)
	step(used)
	used.Reseed(1)
	if got := step(used); !slices.Equal(got, want) {
		t.Error("after Reseed(1) the masks differ from a Program compiled with Seed 1")
	}
	if slices.Equal(other, want) {
		t.Error("Reseed(7) drew the same masks as seed 1")
	}
}
