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
	r, err := p.Grad(x, []int{0, 1, 2, 3}, Want{Mode: Mode{Training: true, FreezeBatchNorm: true}, Params: true})
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
		r, err := p.Grad(x, labels, Want{Mode: Mode{Training: true}, Params: true})
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

// TestModePerCall checks that a training pass leaves no mode behind: the
// next inference pass on the same Program (Run, or Grad with the zero
// Mode) gives what a Program that never trained gives, once the running
// statistics the training pass moved are put back.
func TestModePerCall(t *testing.T) {
	x := readNpy(t, filepath.Join(modelDir, "resblock.input.npy"))
	labels := []int{0, 1, 2, 3}
	fresh := loadProgram(t, "resblock")
	want, err := fresh.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	wantGrad, err := fresh.Grad(x, labels, Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	p := loadProgram(t, "resblock")
	var before [][]float32
	for _, prm := range p.Params() {
		before = append(before, slices.Clone(prm.T.Data))
	}
	if _, err := p.Grad(x, labels, Want{Mode: Mode{Training: true}, Params: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.RunMode(x, Mode{Training: true}); err != nil {
		t.Fatal(err)
	}
	for i, prm := range p.Params() {
		copy(prm.T.Data, before[i])
	}
	got, err := p.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got[0].Data, want[0].Data) {
		t.Error("Run after a training pass differs from a fresh Program's: the mode stuck")
	}
	gotGrad, err := p.Grad(x, labels, Want{Input: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotGrad.Input.Data, wantGrad.Input.Data) {
		t.Error("an inference Grad after a training pass differs from a fresh Program's: the mode stuck")
	}
}

// TestModeMatters checks which modes change what a program computes.
func TestModeMatters(t *testing.T) {
	for _, test := range []struct {
		model string
		mode  Mode
		want  bool
	}{
		{"resblock", Mode{}, false},
		{"resblock", Mode{Training: true}, true},
		{"resblock", Mode{Training: true, FreezeBatchNorm: true}, false},
		{"dropout", Mode{}, false},
		{"dropout", Mode{Training: true, FreezeBatchNorm: true}, true},
		{"fmnist_cnn", Mode{Training: true}, false},
	} {
		if got := loadProgram(t, test.model).ModeMatters(test.mode); got != test.want {
			t.Errorf("%s: ModeMatters(%+v) = %v, want %v", test.model, test.mode, got, test.want)
		}
	}
}
