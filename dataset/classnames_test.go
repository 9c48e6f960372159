package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseClassNames(t *testing.T) {
	for _, test := range []struct {
		name, text string
		want       []string
		err        string // the error must contain this; "" for none
	}{
		{"lines", "T-shirt/top\nTrouser\r\nPullover\n\n", []string{"T-shirt/top", "Trouser", "Pullover"}, ""},
		{"JSON list", ` ["cat", "dog"] `, []string{"cat", "dog"}, ""},
		{"JSON object", `{"1": "dog", "0": "cat"}`, []string{"cat", "dog"}, ""},
		{"Python dict", `{0: 'person', 1: "bicycle", 2: 'it\'s'}`, []string{"person", "bicycle", "it's"}, ""},
		{"gap", `{0: 'a', 2: 'c'}`, nil, "no name for class 1"},
		{"bad JSON list", `["a", 1]`, nil, "not a JSON list"},
		{"bad dict", `{0: person}`, nil, "cannot read"},
		{"unterminated", `{0: 'person`, nil, "cannot read"},
		{"empty", " \n", nil, "no class names"},
	} {
		got, err := ParseClassNames(test.text)
		switch {
		case test.err != "" && (err == nil || !strings.Contains(err.Error(), test.err)):
			t.Errorf("%s: got error %v, want one containing %q", test.name, err, test.err)
		case test.err == "" && err != nil:
			t.Errorf("%s: unexpected error %v", test.name, err)
		case !slices.Equal(got, test.want):
			t.Errorf("%s: got %q, want %q", test.name, got, test.want)
		}
	}
}

func TestReadClassNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classes.txt")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadClassNames(path); err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("ReadClassNames: got %q, %v; want [a b]", got, err)
	}
	missing := filepath.Join(t.TempDir(), "none.txt")
	if _, err := ReadClassNames(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadClassNames of a missing file: got %v, want an error naming it", err)
	}
}

func TestMetadataClassNames(t *testing.T) {
	for _, test := range []struct {
		name    string
		md      map[string]string
		want    []string
		wantKey string
		err     bool
	}{
		{"none", map[string]string{"author": "x"}, nil, "", false},
		{"onnxguard first", map[string]string{"names": "{0: 'x'}", ClassNamesKey: `["a", "b"]`}, []string{"a", "b"}, ClassNamesKey, false},
		{"ultralytics", map[string]string{"names": "{0: 'person', 1: 'bicycle'}", "stride": "32"}, []string{"person", "bicycle"}, "names", false},
		{"labels lines", map[string]string{"labels": "a\nb"}, []string{"a", "b"}, "labels", false},
		{"damaged", map[string]string{ClassNamesKey: `["a"`}, nil, ClassNamesKey, true},
	} {
		got, key, err := MetadataClassNames(test.md)
		if (err != nil) != test.err || key != test.wantKey || !slices.Equal(got, test.want) {
			t.Errorf("%s: got %q from %q (error %v), want %q from %q (error %v)", test.name, got, key, err, test.want, test.wantKey, test.err)
		}
	}
}
