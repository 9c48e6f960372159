package ort

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not really a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindLibrary(t *testing.T) {
	dir := t.TempDir()
	flagLib := touch(t, filepath.Join(dir, "flag", "libonnxruntime.so"))
	envLib := touch(t, filepath.Join(dir, "env", "libonnxruntime.so"))
	cacheRoot := filepath.Join(dir, "cache")
	cacheLib := filepath.Join(cacheRoot, "onnxruntime-"+Version, "libonnxruntime.so.1")
	missing := filepath.Join(dir, "missing.so")

	for i, test := range []struct {
		name        string
		flag, env   string
		cached      bool
		want        string
		wantMissing []string // substrings of the error, when one is wanted
	}{
		{name: "flag first", flag: flagLib, env: envLib, cached: true, want: flagLib},
		{name: "env when no flag", env: envLib, cached: true, want: envLib},
		{name: "cache last", cached: true, want: cacheLib},
		{name: "missing flag is an error, not a fall-through", flag: missing, env: envLib, cached: true, wantMissing: []string{"library path " + missing + " (no such file)"}},
		{name: "missing env falls through to cache", env: missing, cached: true, want: cacheLib},
		{name: "directory flag is an error", flag: dir, env: envLib, wantMissing: []string{dir + " (a directory"}},
		{
			name: "none found", env: filepath.Join(dir, "also-missing.so"),
			wantMissing: []string{"$ONNXRUNTIME_LIB " + filepath.Join(dir, "also-missing.so"), cacheLib, "scripts/setup-ort.sh", "make setup"},
		},
		{name: "only the cache to try", wantMissing: []string{cacheLib, "scripts/setup-ort.sh"}},
		{name: "directory named in error", flag: dir, wantMissing: []string{dir + " (a directory"}},
	} {
		t.Setenv("ONNXGUARD_CACHE", cacheRoot)
		t.Setenv("ONNXRUNTIME_LIB", test.env)
		os.RemoveAll(cacheRoot)
		if test.cached {
			touch(t, cacheLib)
		}
		got, err := FindLibrary(test.flag)
		if test.wantMissing == nil {
			if err != nil || got != test.want {
				t.Errorf("%d %s: FindLibrary(%q) = %q, %v; want %q", i, test.name, test.flag, got, err, test.want)
			}
			continue
		}
		if !errors.Is(err, ErrLibraryMissing) {
			t.Errorf("%d %s: FindLibrary(%q) = %q, %v; want ErrLibraryMissing", i, test.name, test.flag, got, err)
			continue
		}
		for _, s := range test.wantMissing {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%d %s: error %q does not mention %q", i, test.name, err, s)
			}
		}
	}
}

func TestFindLibraryNowhereToLook(t *testing.T) {
	for _, v := range []string{"ONNXRUNTIME_LIB", "ONNXGUARD_CACHE", "XDG_CACHE_HOME", "HOME"} {
		t.Setenv(v, "")
	}
	_, err := FindLibrary("")
	if !errors.Is(err, ErrLibraryMissing) || !strings.Contains(err.Error(), "scripts/setup-ort.sh") {
		t.Errorf("FindLibrary with nothing set: %v; want ErrLibraryMissing naming scripts/setup-ort.sh", err)
	}
}

func TestDefaultLibraryPath(t *testing.T) {
	tail := filepath.Join("onnxruntime-"+Version, "libonnxruntime.so.1")
	for i, test := range []struct {
		cache, xdg, home string
		want             string
	}{
		{cache: "/c", xdg: "/x", home: "/h", want: filepath.Join("/c", tail)},
		{xdg: "/x", home: "/h", want: filepath.Join("/x/onnxguard", tail)},
		{home: "/h", want: filepath.Join("/h/.cache/onnxguard", tail)},
		{want: ""},
	} {
		t.Setenv("ONNXGUARD_CACHE", test.cache)
		t.Setenv("XDG_CACHE_HOME", test.xdg)
		t.Setenv("HOME", test.home)
		if got := DefaultLibraryPath(); got != test.want {
			t.Errorf("%d: ONNXGUARD_CACHE=%q XDG_CACHE_HOME=%q HOME=%q: got %q, want %q", i, test.cache, test.xdg, test.home, got, test.want)
		}
	}
}

func TestSettings(t *testing.T) {
	lib := touch(t, filepath.Join(t.TempDir(), "libonnxruntime.so"))
	for i, test := range []struct {
		opt         *Options
		wantDevice  string
		wantThreads int
		wantErr     []string
	}{
		{opt: &Options{Library: lib}, wantDevice: DeviceAuto, wantThreads: runtime.NumCPU()},
		{opt: &Options{Library: lib, Device: "CPU", Threads: 3}, wantDevice: DeviceCPU, wantThreads: 3},
		{opt: &Options{Library: lib, Device: " cuda "}, wantDevice: DeviceCUDA, wantThreads: runtime.NumCPU()},
		{opt: &Options{Library: lib, Device: "tpu"}, wantErr: []string{`"tpu"`, "auto, cpu, cuda"}},
		{opt: &Options{Library: lib, Threads: -2}, wantErr: []string{"Threads = -2"}},
	} {
		got, err := test.opt.settings()
		if test.wantErr != nil {
			if err == nil {
				t.Errorf("%d: %+v: no error; want one mentioning %q", i, *test.opt, test.wantErr)
			}
			for _, s := range test.wantErr {
				if err != nil && !strings.Contains(err.Error(), s) {
					t.Errorf("%d: %+v: error %q does not mention %q", i, *test.opt, err, s)
				}
			}
			continue
		}
		if err != nil || got.device != test.wantDevice || got.threads != test.wantThreads || got.library != lib || got.warn != os.Stderr {
			t.Errorf("%d: %+v: got %+v, %v; want device %s, %d threads, library %s, warnings to stderr", i, *test.opt, got, err, test.wantDevice, test.wantThreads, lib)
		}
	}
}

func TestMissingCUDAFiles(t *testing.T) {
	for i, test := range []struct {
		present []string
		want    []string
	}{
		{want: cudaProviderFiles},
		{present: []string{"libonnxruntime_providers_shared.so"}, want: []string{"libonnxruntime_providers_cuda.so"}},
		{present: cudaProviderFiles},
	} {
		dir := t.TempDir()
		for _, f := range test.present {
			touch(t, filepath.Join(dir, f))
		}
		gotDir, got := missingCUDAFiles(filepath.Join(dir, "libonnxruntime.so.1"))
		if gotDir != dir || strings.Join(got, ",") != strings.Join(test.want, ",") {
			t.Errorf("%d: with %v present: got %s, %v; want %s, %v", i, test.present, gotDir, got, dir, test.want)
		}
	}
}
