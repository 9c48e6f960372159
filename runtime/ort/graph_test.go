//go:build cgo

package ort

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"
)

// TestGraphRun runs models Session refuses (two inputs; an int64 input;
// an int64 output) through Graph, checking every value.
func TestGraphRun(t *testing.T) {
	needORT(t)
	for _, test := range []struct {
		file    string
		inputs  []string
		outputs []string
		feed    []Tensor
		want    Tensor
	}{
		{"two_inputs.onnx", []string{"a", "b"}, []string{"sum"},
			[]Tensor{{Shape: []int64{1, 4}, Float: []float32{1, 2, 3, 4}}, {Shape: []int64{1, 4}, Float: []float32{10, 20, 30, 40}}},
			Tensor{Shape: []int64{1, 4}, Float: []float32{11, 22, 33, 44}}},
		{"int64_input.onnx", []string{"ids"}, []string{"out"},
			[]Tensor{{Shape: []int64{2, 4}, Int: []int64{1, 2, 3, 4, 5, 6, 7, -8}}},
			Tensor{Shape: []int64{2, 4}, Float: []float32{1, 2, 3, 4, 5, 6, 7, -8}}},
		{"int_output.onnx", []string{"x"}, []string{"class"},
			[]Tensor{{Shape: []int64{2, 4}, Float: []float32{0, 3, 1, 2, 9, 1, 1, 1}}},
			Tensor{Shape: []int64{2}, Int: []int64{1, 0}}},
	} {
		data, err := os.ReadFile("testdata/" + test.file)
		if err != nil {
			t.Fatal(err)
		}
		g, err := OpenGraph(data, test.inputs, test.outputs, &Options{Library: testLib, Device: DeviceCPU})
		if err != nil {
			t.Fatalf("%s: %v", test.file, err)
		}
		got, err := g.Run(test.feed)
		if err != nil {
			t.Fatalf("%s: %v", test.file, err)
		}
		if len(got) != 1 || !slices.Equal(got[0].Shape, test.want.Shape) || !slices.Equal(got[0].Float, test.want.Float) || !slices.Equal(got[0].Int, test.want.Int) {
			t.Errorf("%s: got %+v, want %+v", test.file, got, test.want)
		}
		if _, err := g.Run(test.feed[:0]); err == nil {
			t.Errorf("%s: Run with no tensors: no error", test.file)
		}
		if err := g.Close(); err != nil {
			t.Error(err)
		}
		if _, err := g.Run(test.feed); err == nil {
			t.Errorf("%s: Run after Close: no error", test.file)
		}
	}
}

// TestGraphRunOutputsOwned: each result's data is its own, Go memory the
// caller keeps, written by no later run (Run does not copy it again), for
// float and int64 outputs alike.
func TestGraphRunOutputsOwned(t *testing.T) {
	needORT(t)
	for _, test := range []struct {
		file, in, out string
		feed          func(k int64) Tensor
		want          func(k int64) Tensor
	}{
		{"int64_input.onnx", "ids", "out",
			func(k int64) Tensor { return Tensor{Shape: []int64{1, 4}, Int: []int64{k, k + 1, k + 2, -k}} },
			func(k int64) Tensor {
				return Tensor{Shape: []int64{1, 4}, Float: []float32{float32(k), float32(k + 1), float32(k + 2), float32(-k)}}
			}},
		{"int_output.onnx", "x", "class",
			func(k int64) Tensor { // row 0's largest at k mod 4, row 1's at k+1 mod 4
				x := make([]float32, 8)
				x[k%4], x[4+(k+1)%4] = 1, 1
				return Tensor{Shape: []int64{2, 4}, Float: x}
			},
			func(k int64) Tensor { return Tensor{Shape: []int64{2}, Int: []int64{k % 4, (k + 1) % 4}} }},
	} {
		data, err := os.ReadFile("testdata/" + test.file)
		if err != nil {
			t.Fatal(err)
		}
		g, err := OpenGraph(data, []string{test.in}, []string{test.out}, &Options{Library: testLib, Device: DeviceCPU})
		if err != nil {
			t.Fatalf("%s: %v", test.file, err)
		}
		defer g.Close()
		var kept []Tensor
		for k := int64(1); k <= 3; k++ {
			got, err := g.Run([]Tensor{test.feed(k)})
			if err != nil {
				t.Fatalf("%s: %v", test.file, err)
			}
			kept = append(kept, got[0])
		}
		for i, got := range kept {
			want := test.want(int64(i + 1))
			if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Float, want.Float) || !slices.Equal(got.Int, want.Int) {
				t.Errorf("%s: run %d's result, after later runs: %+v, want %+v", test.file, i+1, got, want)
			}
		}
	}
}

// TestGraphDevices: where the library has no CUDA provider, cuda is an
// ErrNoCUDA error and auto falls back to the CPU with a one-line notice.
func TestGraphDevices(t *testing.T) {
	needORT(t)
	if gpuBuild() {
		t.Skip("the installed ONNX Runtime is a GPU build; TestCUDA covers it")
	}
	data, err := os.ReadFile("testdata/two_inputs.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenGraph(data, []string{"a", "b"}, []string{"sum"}, &Options{Library: testLib, Device: DeviceCUDA}); !errors.Is(err, ErrNoCUDA) {
		t.Errorf("OpenGraph on cuda: %v, want ErrNoCUDA", err)
	}
	var warn bytes.Buffer
	g, err := OpenGraph(data, []string{"a", "b"}, []string{"sum"}, &Options{Library: testLib, Device: DeviceAuto, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Device() != DeviceCPU {
		t.Errorf("OpenGraph on auto: Device() = %q, want cpu", g.Device())
	}
	checkWarning(t, "OpenGraph on auto", warn.String(), []string{"running on CPU"})
}

// TestGraphRunInto: an output given room is computed in it (the result is
// that very slice), a run after it into the same room overwrites it, room
// of the wrong shape fails the run with an error and leaves the graph
// usable, and room for an int64 output or none at all falls back to
// Run's own allocation.
func TestGraphRunInto(t *testing.T) {
	needORT(t)
	data, err := os.ReadFile("testdata/two_inputs.onnx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := OpenGraph(data, []string{"a", "b"}, []string{"sum"}, &Options{Library: testLib, Device: DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	feed := func(k float32) []Tensor {
		return []Tensor{{Shape: []int64{1, 4}, Float: []float32{1, 2, 3, 4}}, {Shape: []int64{1, 4}, Float: []float32{k, k, k, k}}}
	}
	room := Tensor{Shape: []int64{1, 4}, Float: make([]float32, 4)}
	for _, k := range []float32{10, 20} {
		got, err := g.RunInto(feed(k), []Tensor{room})
		if err != nil {
			t.Fatal(err)
		}
		want := []float32{1 + k, 2 + k, 3 + k, 4 + k}
		if !slices.Equal(got[0].Float, want) || !slices.Equal(room.Float, want) {
			t.Errorf("k=%g: result %v, room %v, want both %v", k, got[0].Float, room.Float, want)
		}
		if &got[0].Float[0] != &room.Float[0] {
			t.Errorf("k=%g: the result is not the room given", k)
		}
	}
	for _, bad := range []Tensor{
		{Shape: []int64{1, 5}, Float: make([]float32, 5)}, // not the output's shape
		{Shape: []int64{1, 4}, Float: make([]float32, 3)}, // not the shape's size
	} {
		if _, err := g.RunInto(feed(1), []Tensor{bad}); err == nil {
			t.Errorf("room %v: no error", bad.Shape)
		}
	}
	if _, err := g.RunInto(feed(1), []Tensor{room, room}); err == nil {
		t.Error("room for two outputs of a graph with one: no error")
	}
	for _, into := range [][]Tensor{nil, {{}}, {{Shape: []int64{1, 4}, Int: make([]int64, 4)}}} {
		got, err := g.RunInto(feed(5), into)
		if err != nil {
			t.Fatalf("into %v: %v", into, err)
		}
		if want := []float32{6, 7, 8, 9}; !slices.Equal(got[0].Float, want) || slices.Equal(room.Float, want) {
			t.Errorf("into %v: got %v (room %v), want %v in memory of its own", into, got[0].Float, room.Float, want)
		}
	}
}
