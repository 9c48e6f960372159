package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Version is the ONNX Runtime release that scripts/setup-ort.sh installs and
// that github.com/yalue/onnxruntime_go v1.27.0 is written against.
const Version = "1.24.1"

// ErrLibraryMissing is returned, wrapped, when no ONNX Runtime library is
// found; the message lists the paths tried and how to install one.
var ErrLibraryMissing = errors.New("ort: ONNX Runtime library not found")

// ErrNoCgo is returned by Open in a binary built with CGO_ENABLED=0, which
// cannot load ONNX Runtime.
var ErrNoCgo = errors.New("ort: this binary was built with CGO_ENABLED=0 and cannot load ONNX Runtime; rebuild with CGO_ENABLED=1 and a C compiler")

// setupHint says how to get the library; every not-found error ends with it.
const setupHint = "install it with scripts/setup-ort.sh (or make setup), or set ONNXRUNTIME_LIB to the path of a libonnxruntime.so " + Version

// DefaultLibraryPath returns where scripts/setup-ort.sh installs the library:
// ${ONNXGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onnxguard}/onnxruntime-<Version>/libonnxruntime.so.1.
// It returns "" when neither ONNXGUARD_CACHE, XDG_CACHE_HOME nor HOME is set.
func DefaultLibraryPath() string {
	root := os.Getenv("ONNXGUARD_CACHE")
	if root == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home := os.Getenv("HOME")
			if home == "" {
				return ""
			}
			base = filepath.Join(home, ".cache")
		}
		root = filepath.Join(base, "onnxguard")
	}
	return filepath.Join(root, "onnxruntime-"+Version, "libonnxruntime.so.1")
}

// FindLibrary returns the path of the ONNX Runtime shared library to load:
// flag (Options.Library: the path a caller names) if it names a file, else $ONNXRUNTIME_LIB if that
// does, else DefaultLibraryPath if the library is installed there. A flag
// that names no file is an error at once (a typo must not silently load
// another library); a missing $ONNXRUNTIME_LIB is passed over. When none is
// found the error wraps ErrLibraryMissing and lists every path tried.
func FindLibrary(flag string) (string, error) {
	candidates := []struct{ from, path string }{
		{"library path", flag},
		{"$ONNXRUNTIME_LIB", os.Getenv("ONNXRUNTIME_LIB")},
		{"setup-ort.sh cache", DefaultLibraryPath()},
	}
	var tried []string
	for _, c := range candidates {
		if c.path == "" {
			continue
		}
		st, err := os.Stat(c.path)
		switch {
		case err == nil && st.Mode().IsRegular():
			return c.path, nil
		case err == nil && st.IsDir():
			tried = append(tried, fmt.Sprintf("%s %s (a directory, not the library file in it)", c.from, c.path))
		case err == nil:
			tried = append(tried, fmt.Sprintf("%s %s (not a regular file)", c.from, c.path))
		case errors.Is(err, os.ErrNotExist):
			tried = append(tried, fmt.Sprintf("%s %s (no such file)", c.from, c.path))
		default:
			tried = append(tried, fmt.Sprintf("%s %s (%v)", c.from, c.path, err))
		}
		if c.from == "library path" {
			return "", fmt.Errorf("%w: %s", ErrLibraryMissing, tried[0])
		}
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("%w: no library path given, and ONNXRUNTIME_LIB, ONNXGUARD_CACHE, XDG_CACHE_HOME and HOME are all unset, so there was nowhere to look; %s", ErrLibraryMissing, setupHint)
	}
	return "", fmt.Errorf("%w: tried %s; %s", ErrLibraryMissing, strings.Join(tried, ", "), setupHint)
}
