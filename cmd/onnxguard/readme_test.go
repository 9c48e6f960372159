package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/internal/testort"
)

// readmeCommands returns the onnxguard command lines of README.md's
// ```console and ```sh blocks ("$ bin/onnxguard ..." or "bin/onnxguard
// ..."), continuation lines joined, each as its arguments after the
// program name.
func readmeCommands(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds [][]string
	in, cont := false, false
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```console") || strings.HasPrefix(line, "```sh"):
			in = true
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		}
		if !in {
			continue
		}
		if cont {
			cur += " " + strings.TrimSpace(line)
		} else if l := strings.TrimPrefix(strings.TrimSpace(line), "$ "); strings.HasPrefix(l, "bin/onnxguard ") {
			cur = l
		} else {
			continue
		}
		if cont = strings.HasSuffix(cur, "\\"); cont {
			cur = strings.TrimSuffix(cur, "\\")
			continue
		}
		cmds = append(cmds, strings.Fields(cur)[1:])
	}
	return cmds
}

// inRepoCopy makes a temporary folder in which the repository's testdata
// is at testdata/, as README's commands expect from the repository root,
// and makes it the working folder.
func inRepoCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	td, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(td, filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir
}

// modelCommands run a model over data and take --limit.
var modelCommands = map[string]bool{"eval": true, "predict": true, "attack": true, "audit": true, "harden": true}

// TestReadmeCommands runs every onnxguard command README.md shows, as
// written, in order (a later one may read what an earlier one wrote),
// with --limit added to those that run a model so the test stays short.
func TestReadmeCommands(t *testing.T) {
	cmds := readmeCommands(t, "../../README.md")
	if len(cmds) < 4 {
		t.Fatalf("found %d commands in README.md; the parser has lost them", len(cmds))
	}
	testort.Need(t) // the README's commands classify on ONNX Runtime
	dir := inRepoCopy(t)
	if err := os.MkdirAll(filepath.Join(dir, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range cmds {
		if missing := absentDataset(args); missing != "" {
			t.Errorf("%s: %s is missing (make setup installs it)", strings.Join(args, " "), missing)
			continue
		}
		if modelCommands[args[0]] {
			args = append(args, "--limit", "200", "--device", "cpu")
			if args[0] == "harden" {
				args = append(args, "--val-limit", "100")
			}
		}
		stdout, _, err := run(args...)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		if strings.TrimSpace(stdout) == "" {
			t.Errorf("%s: printed nothing", strings.Join(args, " "))
		}
	}
}

// absentDataset names a file under /usr/share/datasets that args read and
// that is not installed, or returns "".
func absentDataset(args []string) string {
	for _, a := range args {
		if strings.HasPrefix(a, "/usr/share/datasets/") {
			if _, err := os.Stat(a); err != nil {
				return a
			}
		}
	}
	return ""
}

// TestHelpExamples checks that every example in the commands' help texts
// names the command's own flags, so the help cannot drift from the flags.
func TestHelpExamples(t *testing.T) {
	example := regexp.MustCompile(`^\s+onnxguard (.*?)\\?$`)
	var walk func(path []string, cmds []*cli.Command)
	n := 0
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Name == "help" { // urfave/cli's, its own subcommand once run
				continue
			}
			p := append(append([]string(nil), path...), c.Name)
			walk(p, c.Subcommands)
			lines := strings.Split(c.Description, "\n")
			for i := 0; i < len(lines); i++ {
				m := example.FindStringSubmatch(lines[i])
				if m == nil {
					continue
				}
				text := m[1]
				for strings.HasSuffix(strings.TrimSpace(lines[i]), "\\") && i+1 < len(lines) {
					i++
					text += " " + strings.TrimSuffix(strings.TrimSpace(lines[i]), "\\")
				}
				args := strings.Fields(text)
				if strings.Join(args[:len(p)], " ") != strings.Join(p, " ") {
					t.Errorf("%s help: example %q is not of this command", strings.Join(p, " "), text)
					continue
				}
				n++
				for _, a := range args[len(p):] {
					if !strings.HasPrefix(a, "-") || len(a) < 2 {
						continue
					}
					name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
					if !hasFlag(c.Flags, name) {
						t.Errorf("%s help: example %q uses %s, which the command does not have", strings.Join(p, " "), text, a)
					}
				}
			}
		}
	}
	walk(nil, newApp().Commands)
	if n < 15 {
		t.Errorf("found %d examples in the help texts; the parser has lost them", n)
	}
}

func hasFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}
