package structure

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goFiles lists the module's Go files, relative to root, with slashes; it
// skips testdata, hidden folders and nested modules.
func goFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); path != root && err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var generatedRE = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// generated reports whether src carries Go's generated-code comment
// before its package clause.
func generated(src []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "package ") {
			return false
		}
		if generatedRE.MatchString(line) {
			return true
		}
	}
	return false
}

// sizeViolations are the files over maxFileLines and the functions over
// maxFuncLines that are not tables.
func sizeViolations(t *testing.T, root string) []violation {
	t.Helper()
	var out []violation
	for _, rel := range goFiles(t, root) {
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if generated(src) {
			continue
		}
		if n := bytes.Count(src, []byte("\n")); n > maxFileLines {
			out = append(out, violation{"file " + rel, fmt.Sprintf("%d lines, over %d", n, maxFileLines)})
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, fn := range functions(f) {
			if lines, table := fn.size(fset); tooLong(lines, table) {
				out = append(out, violation{"func " + rel + ":" + fn.name, fmt.Sprintf("%d lines, over %d (largest composite literal %d lines, under %.0f%% of them)",
					lines, maxFuncLines, table, 100*tableShare)})
			}
		}
	}
	return out
}

type function struct {
	name string
	node ast.Node
	body *ast.BlockStmt
}

// size is the function's length in lines, and that of its longest
// composite literal.
func (fn function) size(fset *token.FileSet) (lines, table int) {
	lines = fset.Position(fn.node.End()).Line - fset.Position(fn.node.Pos()).Line + 1
	return lines, largestLiteral(fset, fn.body)
}

// tooLong is the function rule: over maxFuncLines, unless a table makes
// up tableShare of it.
func tooLong(lines, table int) bool {
	return lines > maxFuncLines && float64(table) < tableShare*float64(lines)
}

// functions are f's declared functions and methods, and the function
// literals outside them (a subcommand's Action in a var initialiser);
// literals inside a function count as part of it.
func functions(f *ast.File) []function {
	var fns []function
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Body == nil {
				continue // assembly
			}
			name := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) == 1 {
				name = recvName(d.Recv.List[0].Type) + "." + name
			}
			fns = append(fns, function{name, d, d.Body})
		case *ast.GenDecl:
			ast.Inspect(d, func(n ast.Node) bool {
				if lit, ok := n.(*ast.FuncLit); ok {
					fns = append(fns, function{declName(d) + ".func", lit, lit.Body})
					return false
				}
				return true
			})
		}
	}
	return fns
}

func recvName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvName(e.X)
	case *ast.IndexExpr:
		return recvName(e.X)
	case *ast.IndexListExpr:
		return recvName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return "?"
}

func declName(d *ast.GenDecl) string {
	for _, s := range d.Specs {
		if v, ok := s.(*ast.ValueSpec); ok && len(v.Names) > 0 {
			return v.Names[0].Name
		}
	}
	return "var"
}

// largestLiteral is the number of lines of the longest composite literal
// in body.
func largestLiteral(fset *token.FileSet, body *ast.BlockStmt) int {
	best := 0
	ast.Inspect(body, func(n ast.Node) bool {
		if lit, ok := n.(*ast.CompositeLit); ok {
			best = max(best, fset.Position(lit.End()).Line-fset.Position(lit.Pos()).Line+1)
			return false // a nested literal is no longer than this one
		}
		return true
	})
	return best
}
