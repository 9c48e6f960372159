package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	app := newApp()
	for _, test := range []struct{ in, want string }{
		{"report merge a/ b/ --out m/", "report merge --out m/ a/ b/"},
		{"report merge a/ --json b/ --fail-under 40%", "report merge --json --fail-under 40% a/ b/"},
		{"report merge a/ --out=m/ b/", "report merge --out=m/ a/ b/"},
		{"report merge --out m/ a/ -- --odd/", "report merge --out m/ a/ -- --odd/"},
		{"report merge a/ -- -x", "report merge a/ -- -x"},
		{"eval -m x.onnx -d y --std -1 --mean 0", "eval -m x.onnx -d y --std -1 --mean 0"},
		{"attack --random-start -m x", "attack --random-start -m x"},
		{"help attack", "help attack"},
		{"frob --x 1", "frob --x 1"},
		{"report", "report"},
	} {
		got := strings.Join(flagsFirst(app, append([]string{"onnxguard"}, strings.Fields(test.in)...))[1:], " ")
		if got != test.want {
			t.Errorf("%q: got %q, want %q", test.in, got, test.want)
		}
	}
}

// TestHelp checks that help exits 0 for the app and every command, prints
// on stdout, and shows no flag with two defaults ("(default 10) (default: 0)").
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {}, {"help", "attack"}, {"report", "merge", "--help"}, {"report"},
		{"inspect", "-h"}, {"eval", "--help"}, {"predict", "--help"}, {"attack", "--help"}, {"audit", "--help"},
		{"harden", "--help"}, {"export", "--help"}, {"init", "--help"}} {
		var stdout, stderr bytes.Buffer
		code := runMain(append([]string{"onnxguard"}, args...), &stdout, &stderr)
		if code != 0 || stderr.Len() != 0 || stdout.Len() == 0 {
			t.Errorf("%v: status %d, stderr %q, %d bytes of help", args, code, stderr.String(), stdout.Len())
		}
		for _, line := range strings.Split(stdout.String(), "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("%v: doubled default in %q", args, line)
			}
		}
	}
}
