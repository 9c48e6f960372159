package dataset

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestParseLayout(t *testing.T) {
	for _, test := range []struct {
		in   string
		want Layout
		ok   bool
	}{
		{"nchw", NCHW, true},
		{"NHWC", NHWC, true},
		{" nhwc ", NHWC, true},
		{"hwc", NCHW, false},
		{"", NCHW, false},
	} {
		got, err := ParseLayout(test.in)
		if (err == nil) != test.ok || got != test.want {
			t.Errorf("ParseLayout(%q) = %v, %v; want %v, ok %v", test.in, got, err, test.want, test.ok)
		}
	}
}

func TestDetectLayout(t *testing.T) {
	for _, test := range []struct {
		shape []int64
		want  Layout
	}{
		{[]int64{-1, 1, 28, 28}, NCHW},
		{[]int64{-1, 3, 224, 224}, NCHW},
		{[]int64{-1, 28, 28, 1}, NHWC},
		{[]int64{1, 32, 32, 3}, NHWC},
		{[]int64{-1, -1, -1, 3}, NHWC},
		{[]int64{-1, 3, -1, -1}, NCHW},
		{[]int64{-1, -1, -1, -1}, NCHW},
		{[]int64{-1, 3, 32, 3}, NCHW}, // ambiguous: the flag decides
		{[]int64{-1, 1, 8, 1}, NCHW},
		{[]int64{-1, 784}, NCHW},
		{[]int64{-1, 28, 28}, NCHW},
	} {
		if got := DetectLayout(test.shape); got != test.want {
			t.Errorf("DetectLayout(%v) = %v; want %v", test.shape, got, test.want)
		}
	}
}

func TestLayoutShape(t *testing.T) {
	if got := NCHW.Shape(2, 3, 4, 5); !slices.Equal(got, []int{2, 3, 4, 5}) {
		t.Errorf("NCHW.Shape = %v; want [2 3 4 5]", got)
	}
	if got := NHWC.Shape(2, 3, 4, 5); !slices.Equal(got, []int{2, 4, 5, 3}) {
		t.Errorf("NHWC.Shape = %v; want [2 4 5 3]", got)
	}
	if got := NHWC.SampleDims([]int64{-1, 28, 27, 1}); !slices.Equal(got, []int64{1, 28, 27}) {
		t.Errorf("NHWC.SampleDims = %v; want [1 28 27]", got)
	}
	if got := NCHW.SampleDims([]int64{-1, 1, 28, 27}); !slices.Equal(got, []int64{1, 28, 27}) {
		t.Errorf("NCHW.SampleDims = %v; want [1 28 27]", got)
	}
	if got := NCHW.SampleDims([]int64{-1, 784}); got != nil {
		t.Errorf("SampleDims of rank 2 = %v; want nil", got)
	}
}

// TestChannelsLastByHand spells out the transposition on two samples of
// two channels of 2×2 pixels (values name sample, channel, pixel).
func TestChannelsLastByHand(t *testing.T) {
	nchw := []float32{
		100, 101, 102, 103, 110, 111, 112, 113,
		200, 201, 202, 203, 210, 211, 212, 213,
	}
	nhwc := []float32{
		100, 110, 101, 111, 102, 112, 103, 113,
		200, 210, 201, 211, 202, 212, 203, 213,
	}
	p := Preprocess{Layout: NHWC}
	if got := p.Apply(nil, nchw, 2, 4); !slices.Equal(got, nhwc) {
		t.Errorf("Apply = %v; want %v", got, nhwc)
	}
	if got := p.Invert(nil, nhwc, 2, 4); !slices.Equal(got, nchw) {
		t.Errorf("Invert = %v; want %v", got, nchw)
	}
	if got := p.Backward(nil, nhwc, 2, 4); !slices.Equal(got, nchw) {
		t.Errorf("Backward = %v; want %v", got, nchw)
	}
	p.Scale = 2
	if got := p.Backward(nil, nhwc[:8], 2, 4); got[4] != 220 || got[1] != 202 {
		t.Errorf("Backward with scale 2 = %v; want the gradient doubled and transposed", got)
	}
}

// TestLayoutEncoding checks that Preprocess keeps its layout through JSON
// (by name, absent for NCHW) and gob (hardening checkpoints), and that a
// gob Preprocess written before the layout existed reads as NCHW.
func TestLayoutEncoding(t *testing.T) {
	for _, p := range []Preprocess{{Scale: 255}, {Mean: []float32{0.5}, Layout: NHWC}} {
		j, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if named := strings.Contains(string(j), `"Layout":"NHWC"`); named != (p.Layout == NHWC) || p.Layout == NCHW && strings.Contains(string(j), "Layout") {
			t.Errorf("JSON of %+v is %s; want the layout by name, and none for NCHW", p, j)
		}
		var back Preprocess
		if err := json.Unmarshal(j, &back); err != nil || back.Layout != p.Layout || back.Scale != p.Scale {
			t.Errorf("JSON round trip of %+v gave %+v, %v", p, back, err)
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(p); err != nil {
			t.Fatal(err)
		}
		back = Preprocess{}
		if err := gob.NewDecoder(&buf).Decode(&back); err != nil || back.Layout != p.Layout || back.Scale != p.Scale {
			t.Errorf("gob round trip of %+v gave %+v, %v", p, back, err)
		}
	}
	var buf bytes.Buffer
	old := struct {
		Scale     float32
		Mean, Std []float32
	}{Scale: 2}
	if err := gob.NewEncoder(&buf).Encode(old); err != nil {
		t.Fatal(err)
	}
	back := Preprocess{Layout: NHWC}
	if err := gob.NewDecoder(&buf).Decode(&back); err != nil || back.Scale != 2 {
		t.Fatalf("decoding an old Preprocess: %+v, %v", back, err)
	}
	var l Layout
	if err := json.Unmarshal([]byte(`"nhwc"`), &l); err != nil || l != NHWC {
		t.Errorf(`"nhwc" reads as %v, %v`, l, err)
	}
	if err := json.Unmarshal([]byte(`"hwc"`), &l); err == nil {
		t.Errorf(`"hwc" reads as %v without an error`, l)
	}
}
