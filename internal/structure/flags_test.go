package structure

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// flagRE matches a command-line flag in a message: --name.
var flagRE = regexp.MustCompile(`(^|[\s(])--[a-z][a-z0-9-]*`)

// errorFuncs are the calls whose string arguments are error messages.
var errorFuncs = map[string]bool{"errors.New": true, "fmt.Errorf": true}

// flagViolations are the error messages of library packages (everything
// but cmd/ and scripts/) that name a command-line flag: a library error
// says what is wrong in the library's terms, and the CLI adds its flags
// (cmd/onnxguard/flaghints.go).
func flagViolations(t *testing.T, root string) []violation {
	t.Helper()
	var out []violation
	for _, rel := range goFiles(t, root) {
		if strings.HasSuffix(rel, "_test.go") || strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "scripts/") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || !errorFuncs[pkg.Name+"."+sel.Sel.Name] {
				return true
			}
			for _, a := range call.Args {
				if s, ok := stringLit(a); ok {
					if m := flagRE.FindString(s); m != "" {
						out = append(out, violation{fmt.Sprintf("flag %s names %s", rel, strings.TrimSpace(strings.TrimPrefix(m, "("))),
							fmt.Sprintf("line %d: %q", fset.Position(a.Pos()).Line, s)})
					}
				}
			}
			return true
		})
	}
	return out
}
