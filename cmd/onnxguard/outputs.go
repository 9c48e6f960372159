package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The checks here run before any work starts, so that a long run never
// ends by overwriting what it read or failing on a name it could not use.

// resolvePath is path made absolute with its symlinks resolved, as far as
// they exist: an output that is not yet there resolves through its folder.
func resolvePath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(r, filepath.Base(abs))
	}
	return abs
}

// samePath reports whether a and b name the same file: the same resolved
// path, or (hard links) the same file on disk.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if resolvePath(a) == resolvePath(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// input is a file or folder a command reads, named by its flag.
type input struct{ flag, path string }

// checkOutFile checks the file that --flag names before a command writes
// it: not one of the inputs, not a folder, in a folder that exists, and,
// for the .npy outputs, not an existing ONNX model.
func checkOutFile(flag, out string, npy bool, inputs ...input) error {
	for _, in := range inputs {
		if samePath(out, in.path) {
			return fmt.Errorf("--%s %s is the %s file (--%s); write to another file so the input stays intact", flag, out, in.flag, in.flag)
		}
	}
	fi, err := os.Stat(out)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("--%s %s is a folder; name the file to write", flag, out)
	case err == nil && npy && strings.EqualFold(filepath.Ext(out), ".onnx"):
		return fmt.Errorf("--%s %s is an existing ONNX file; name a .npy file to write", flag, out)
	}
	return checkParent(flag, out)
}

// checkOutDir checks the folder that --flag names before a command writes
// files into it: not an existing file, and not one of the inputs' folders.
func checkOutDir(flag, dir string, inputs ...input) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("--%s %s is a file, not a folder; name the folder to write into", flag, dir)
	}
	for _, in := range inputs {
		p := in.path
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			p = filepath.Dir(p)
		}
		if samePath(dir, p) {
			return fmt.Errorf("--%s %s holds the input %s; write into another folder so it stays intact", flag, dir, in.path)
		}
	}
	return nil
}

// checkParent checks that the folder out would be written into exists.
func checkParent(flag, out string) error {
	dir := filepath.Dir(out)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--%s %s: folder %s does not exist; create it first", flag, out, dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("--%s %s: %s is not a folder", flag, out, dir)
	}
	return nil
}
