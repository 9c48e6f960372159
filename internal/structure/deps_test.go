package structure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// registeredOps are the operator types registered in the interpreter's
// operator packages: the first argument of every register("Op", ...) call.
func registeredOps(t *testing.T, root string) map[string]bool {
	t.Helper()
	ops := map[string]bool{}
	for _, rel := range goFiles(t, root) {
		if !strings.HasPrefix(rel, "runtime/interp/") || strings.HasSuffix(rel, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, rel), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "register" {
				return true
			}
			if s, ok := stringLit(call.Args[0]); ok {
				ops[s] = true
			}
			return true
		})
	}
	return ops
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// executorViolations are the string literals in executorFiles that name a
// registered operator.
func executorViolations(t *testing.T, root string) []violation {
	t.Helper()
	ops := registeredOps(t, root)
	if len(ops) < 10 {
		t.Fatalf("found %d registered operators under runtime/interp (register(\"Op\", since, ...) calls); the rule no longer finds the registry: update registeredOps", len(ops))
	}
	var out []violation
	for _, rel := range executorFiles {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("executor file %s: %v (update executorFiles if it moved)", rel, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok {
				if s, ok := stringLit(e); ok && ops[s] {
					out = append(out, violation{fmt.Sprintf("executor %s names %q", rel, s), fmt.Sprintf("line %d; an operator declares what the executor needs to know about it", fset.Position(e.Pos()).Line)})
				}
			}
			return true
		})
	}
	return out
}

// importViolations applies importRules to `go list -deps` of every
// package of the module.
func importViolations(t *testing.T, root string) []violation {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps,Module", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	modPath := modulePath(t, root)
	rel := func(p string) (string, bool) {
		if p == modPath {
			return "", true
		}
		r, ok := strings.CutPrefix(p, modPath+"/")
		return r, ok
	}
	var found []violation
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list: %v", err)
		}
		from, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		for _, r := range importRules {
			if !matches(r.from, from) {
				continue
			}
			if r.from == "..." && matches(r.to, from) {
				continue // cmd may import cmd
			}
			var bad []string
			for _, d := range p.Deps {
				if to, ok := rel(d); ok && matches(r.to, to) {
					bad = append(bad, to)
				}
			}
			if len(bad) > 0 {
				found = append(found, violation{fmt.Sprintf("import %s -> %s", from, r.to), fmt.Sprintf("depends on %s: %s", strings.Join(bad, ", "), r.why)})
			}
		}
	}
	return found
}

func modulePath(t *testing.T, root string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(src), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(p), `"`)
		}
	}
	t.Fatal("go.mod has no module line")
	return ""
}

// matches reports whether the package path p (relative to the module)
// matches pattern: "..." matches all, "a/..." a and below, else exactly.
func matches(pattern, p string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}
