package main

import (
	"bytes"
	"encoding/json"
	"github.com/onnxguard/onnxguard/internal/testort"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestInitThenUse writes a fresh paper-simple model and runs inspect and
// eval (both engines) on it with the Fashion-MNIST slice.
func TestInitThenUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fresh.onnx")
	stdout, _, err := run("init", "--arch", "paper-simple", "--out", path, "--seed", "3")
	if err != nil {
		t.Fatal(err)
	}
	if want := "paper-simple: 421642 parameters, input 1x28x28, 10 classes, seed 3, written to " + path + "\n"; stdout != want {
		t.Errorf("init printed %q, want %q", stdout, want)
	}

	text, _, err := run("inspect", "-m", path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var info modelInfo
	if err := json.Unmarshal([]byte(text), &info); err != nil {
		t.Fatal(err)
	}
	if info.Parameters != 421642 || info.Opset != 13 || info.IRVersion != 8 || info.Producer != "onnxguard" || !info.Interpreter ||
		strings.Join(info.Inputs[0].Shape, ",") != "N,1,28,28" || info.Outputs[0].Name != "logits" {
		t.Errorf("inspect of the fresh model: %+v", info)
	}

	for _, engine := range []string{"interp", "ort"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "ort" {
				testort.Need(t)
			}
			stdout, _, err := run("eval", "-m", path, "-d", fashionSlice, "--limit", "40", "--engine", engine, "--device", "cpu", "--json")
			if err != nil {
				t.Fatalf("eval --engine %s on the fresh model: %v", engine, err)
			}
			var got struct{ Samples, Correct int }
			if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Samples != 40 {
				t.Fatalf("eval --engine %s: %q, %v", engine, stdout, err)
			}
		})
	}
}

func TestInitDeterministicAndJSON(t *testing.T) {
	dir := t.TempDir()
	var files [3][]byte
	for i, seed := range []string{"9", "9", "10"} {
		path := filepath.Join(dir, "m"+string(rune('a'+i))+".onnx")
		stdout, _, err := run("init", "-a", "paper-complex", "--input", "3x32x32", "--classes", "4", "-o", path, "--seed", seed, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Arch       string `json:"arch"`
			Parameters int64  `json:"parameters"`
			Input      []int  `json:"input"`
			Classes    int    `json:"classes"`
			Path       string `json:"path"`
			SHA256     string `json:"sha256"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("--json printed %q: %v", stdout, err)
		}
		if got.Arch != "paper-complex" || got.Classes != 4 || got.Path != path || len(got.Input) != 3 || got.Input[0] != 3 || len(got.SHA256) != 64 ||
			got.Parameters != 32*3*9+32+32*32*9+32+64*32*9+64+64*64*9+64+512*4096+512+4*512+4 {
			t.Errorf("init --json: %+v", got)
		}
		if files[i], err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) || bytes.Equal(files[0], files[2]) {
		t.Error("init: the same seed should give the same file and another seed another")
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.onnx")
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"--arch", "paper-simple", "--input", "1x28"}, "--input"},
		{[]string{"--arch", "paper-simple", "--input", "1xbx28"}, "--input"},
		{[]string{"--arch", "paper-simple", "--input", "1x-4x28"}, "--input"},
		{[]string{"--arch", "paper-simple", "--input", "1x3x3"}, "too small"},
		{[]string{"--arch", "paper-simple", "--classes", "0"}, "--classes 0"},
		{[]string{"--arch", "vgg"}, `unknown architecture "vgg"`},
		{[]string{"--arch", "paper-simple", "--out", filepath.Join(dir, "absent", "m.onnx")}, "absent"},
	} {
		args := append([]string{"init"}, test.args...)
		if !slices.Contains(args, "--out") {
			args = append(args, "--out", out)
		}
		_, _, err := run(args...)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%v: got %v, want an error mentioning %q", test.args, err, test.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed init left a model behind")
	}
}
