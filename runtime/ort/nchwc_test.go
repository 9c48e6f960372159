//go:build cgo

package ort

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestNCHWcBlock checks the block the library's NCHWc kernels use: MLAS
// picks 16 on AVX-512F, 8 on AVX2 and none without; and that the probe's
// model runs with it (a blocked [1, 4, 1, 1] tensor).
func TestNCHWcBlock(t *testing.T) {
	needORT(t)
	block := NCHWcBlock(&Options{Library: testLib})
	switch {
	case cpu.X86.HasAVX512F && block != 16:
		t.Errorf("NCHWcBlock = %d on an AVX-512F CPU, want 16", block)
	case !cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && block != 8:
		t.Errorf("NCHWcBlock = %d on an AVX2 CPU, want 8", block)
	case block != 0 && block != 8 && block != 16:
		t.Errorf("NCHWcBlock = %d, want 0, 8 or 16", block)
	}
	if got := NCHWcBlock(&Options{Library: testLib}); got != block {
		t.Errorf("a second NCHWcBlock = %d, the first %d", got, block)
	}
	if got := NCHWcBlock(&Options{Device: "tpu"}); got != 0 {
		t.Errorf("NCHWcBlock with bad options = %d, want 0", got)
	}
}

// TestOpenGraphForms checks which form each device asks for and that a
// form's failure or emptiness is an error, not a session.
func TestOpenGraphForms(t *testing.T) {
	needORT(t)
	data, err := os.ReadFile("testdata/two_inputs.onnx")
	if err != nil {
		t.Fatal(err)
	}
	opt := &Options{Library: testLib, Device: DeviceCPU}
	var asked []int
	g, err := OpenGraphForms(func(block int) ([]byte, error) {
		asked = append(asked, block)
		return data, nil
	}, []string{"a", "b"}, []string{"sum"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if want := []int{NCHWcBlock(opt)}; !slices.Equal(asked, want) {
		t.Errorf("a CPU session asked for the forms %v, want %v", asked, want)
	}
	got, err := g.Run([]Tensor{{Shape: []int64{1, 4}, Float: []float32{1, 2, 3, 4}}, {Shape: []int64{1, 4}, Float: []float32{1, 1, 1, 1}}})
	if err != nil || !slices.Equal(got[0].Float, []float32{2, 3, 4, 5}) {
		t.Errorf("Run: %v, %v", got, err)
	}
	var notices bytes.Buffer
	opt.Warn = &notices
	bad := errors.New("no form for you")
	if _, err := OpenGraphForms(func(int) ([]byte, error) { return nil, bad }, []string{"a", "b"}, []string{"sum"}, opt); !errors.Is(err, bad) {
		t.Errorf("a failing form: %v, want it wrapped", err)
	}
	if _, err := OpenGraphForms(func(int) ([]byte, error) { return nil, nil }, []string{"a", "b"}, []string{"sum"}, opt); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty form: %v, want an error that says so", err)
	}
	// A blocked form ONNX Runtime refuses gives way to the portable one.
	if NCHWcBlock(opt) == 0 {
		t.Log("this ONNX Runtime has no NCHWc kernels: the blocked form's fallback is not tested")
		return
	}
	notices.Reset()
	g2, err := OpenGraphForms(func(block int) ([]byte, error) {
		if block > 0 {
			return []byte("not a model"), nil
		}
		return data, nil
	}, []string{"a", "b"}, []string{"sum"}, opt)
	if err != nil {
		t.Fatalf("a refused blocked form: %v, want the portable one opened", err)
	}
	g2.Close()
	if !strings.Contains(notices.String(), "blocked form") {
		t.Errorf("a refused blocked form: notice %q, want one that says so", notices.String())
	}
	// A graph without a blocked form of its own opens quietly, once.
	notices.Reset()
	asked = asked[:0]
	g3, err := OpenGraphForms(func(block int) ([]byte, error) {
		asked = append(asked, block)
		if block > 0 {
			return nil, ErrNoForm
		}
		return data, nil
	}, []string{"a", "b"}, []string{"sum"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	g3.Close()
	if notices.Len() > 0 || !slices.Equal(asked, []int{NCHWcBlock(opt), 0}) {
		t.Errorf("no blocked form: notice %q, forms asked %v; want none and [%d 0]", notices.String(), asked, NCHWcBlock(opt))
	}
}
