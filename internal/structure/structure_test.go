package structure

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The limits of issue 13.
const (
	maxFileLines = 450
	maxFuncLines = 80
	// tableShare is the share of a long function's lines that its largest
	// composite literal must span for the function to count as a table
	// (a list of test cases, of flags) rather than as code.
	tableShare = 0.6
)

// executorFiles must name no operator: operators describe themselves
// (fusion patterns, properties) where they are registered.
var executorFiles = []string{"runtime/interp/program.go", "runtime/interp/patterns.go"}

// importRules: no package matching from may depend, directly or not, on a
// package matching to. A pattern ending in "/..." matches the folder and
// everything below it.
var importRules = []struct{ from, to, why string }{
	{"runtime", "runtime/interp/...", "the runtime contract must not pull in the interpreter"},
	{"runtime/ort/...", "runtime/interp/...", "ONNX Runtime's session must not pull in the interpreter"},
	{"...", "cmd/...", "a library package must not import the CLI"},
}

// knownViolations are the violations present when this test was written,
// each with the helper of issue 13 that removes it. The lead empties this
// list at merge; the issue is not done until it is empty.
var knownViolations = map[string]string{}

func TestStructure(t *testing.T) {
	root := moduleRoot(t)
	var found []violation
	found = append(found, sizeViolations(t, root)...)
	found = append(found, executorViolations(t, root)...)
	found = append(found, importViolations(t, root)...)
	found = append(found, flagViolations(t, root)...)
	found = append(found, switchViolations(t, root)...)
	slices.SortFunc(found, func(a, b violation) int { return strings.Compare(a.key, b.key) })
	seen := map[string]bool{}
	known := 0
	for _, v := range found {
		if seen[v.key] {
			continue // the same rule broken again in the same place: reported once
		}
		seen[v.key] = true
		if owner, ok := knownViolations[v.key]; ok {
			known++
			t.Logf("known, %s removes it: %s: %s", owner, v.key, v.detail)
			continue
		}
		t.Errorf("%s: %s", v.key, v.detail)
	}
	for key, owner := range knownViolations {
		if !seen[key] {
			t.Errorf("knownViolations lists %q (for %s), which no longer occurs: delete the entry", key, owner)
		}
	}
	t.Logf("%d violations, %d of them in knownViolations", len(seen), known)
}

// violation is one broken rule: key names it stably (what knownViolations
// lists), detail says by how much or why.
type violation struct{ key, detail string }

// moduleRoot is the folder of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("go env GOMOD: not inside the module")
	}
	return filepath.Dir(gomod)
}
