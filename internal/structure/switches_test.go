package structure

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// switchRoots are the folders whose packages take every setting as an
// option at compile or call time: none reads the environment, and none
// has a package-level variable that code (tests included) reassigns, the
// form a mutable switch takes.
var switchRoots = []string{"runtime/interp"}

// switchViolations are the environment reads and package-variable
// reassignments in the packages under switchRoots.
func switchViolations(t *testing.T, root string) []violation {
	t.Helper()
	pkgs := map[string][]string{} // folder: files
	for _, rel := range goFiles(t, root) {
		for _, r := range switchRoots {
			if strings.HasPrefix(rel, r+"/") {
				pkgs[path.Dir(rel)] = append(pkgs[path.Dir(rel)], rel)
			}
		}
	}
	var out []violation
	for dir, files := range pkgs {
		parsed := map[string]*ast.File{}
		fsets := map[string]*token.FileSet{}
		vars := map[string]bool{}
		top := map[*ast.ValueSpec]bool{}
		for _, rel := range files {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			parsed[rel], fsets[rel] = f, fset
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
					for _, s := range g.Specs {
						top[s.(*ast.ValueSpec)] = true
						for _, n := range s.(*ast.ValueSpec).Names {
							vars[n.Name] = vars[n.Name] || !strings.HasSuffix(rel, "_test.go")
						}
					}
				}
			}
		}
		for rel, f := range parsed {
			for _, d := range f.Decls {
				init := false
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "init" && fd.Recv == nil {
					init = true // registration, and choices fixed when the package starts
				}
				out = append(out, declSwitches(d, rel, dir, fsets[rel], vars, top, init)...)
			}
		}
	}
	return out
}

// foreignEnv are environment variables of other software that the
// interpreter respects rather than settings of its own: OpenBLAS's thread
// counts.
var foreignEnv = map[string]bool{"OPENBLAS_NUM_THREADS": true, "GOTO_NUM_THREADS": true, "OMP_NUM_THREADS": true}

// declSwitches are the environment reads and package-variable
// reassignments in one declaration of file rel. In an init function, and
// where a registry grows (v = append(v, ...)), an assignment is no switch.
func declSwitches(d ast.Decl, rel, dir string, fset *token.FileSet, vars map[string]bool, top map[*ast.ValueSpec]bool, init bool) []violation {
	var out []violation
	test := strings.HasSuffix(rel, "_test.go")
	ast.Inspect(d, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || test || len(n.Args) == 0 {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv") {
				if name, ok := stringLit(n.Args[0]); !ok || !foreignEnv[name] {
					out = append(out, violation{fmt.Sprintf("switch %s reads the environment", rel),
						fmt.Sprintf("line %d: settings reach %s as options; only the CLI reads the environment", fset.Position(n.Pos()).Line, dir)})
				}
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE || init {
				return true
			}
			for i, lhs := range n.Lhs {
				id, ok := lhs.(*ast.Ident)
				if !ok || id.Name == "_" || !vars[id.Name] || !packageLevel(id, top) || i < len(n.Rhs) && appends(n.Rhs[i], id.Name) {
					continue
				}
				out = append(out, violation{fmt.Sprintf("switch %s sets %s", rel, id.Name),
					fmt.Sprintf("line %d: a package-level variable of %s is reassigned; pass the setting as an option", fset.Position(n.Pos()).Line, dir)})
			}
		}
		return true
	})
	return out
}

// appends reports whether e is append(name, ...): a registry growing.
func appends(e ast.Expr, name string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return false
	}
	fn, ok := call.Fun.(*ast.Ident)
	arg, ok2 := call.Args[0].(*ast.Ident)
	return ok && ok2 && fn.Name == "append" && arg.Name == name
}

// packageLevel reports whether id, an identifier the parser resolved
// within its file, names a package-level variable: one declared in
// another file (unresolved here) or at the top of this one.
func packageLevel(id *ast.Ident, top map[*ast.ValueSpec]bool) bool {
	if id.Obj == nil {
		return true
	}
	spec, ok := id.Obj.Decl.(*ast.ValueSpec)
	return ok && top[spec]
}
