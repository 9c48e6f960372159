//go:build cgo

package ort

import (
	"fmt"
	"os"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// env is ONNX Runtime's process-global environment. onnxruntime_go keeps one
// per process, bound to the library it loaded, so the first Open loads
// the library and every later Open must name the same file. It is never torn
// down: sessions may be open in other goroutines, and unloading and reloading
// the library buys nothing for a command-line tool.
var env struct {
	mu    sync.Mutex
	lib   string      // path the environment was created from; "" before
	file  os.FileInfo // lib's identity, so a second path to the same file is accepted
	level ortgo.LoggingLevel
}

// arena is the CPU arena the open sessions share (shareArena): registered
// when the first session opens, unregistered when the last one closes, so
// that ONNX Runtime frees it then, as it frees a session's own arena when
// the session closes (harden trains on the interpreter between measuring
// on ONNX Runtime before and after).
var arena struct {
	mu    sync.Mutex
	users int  // open sessions
	on    bool // registered: the sessions take their CPU memory from it
}

// useArena counts a session about to open and says whether it is to
// draw on the shared arena; every call is matched by one of leaveArena.
func useArena() bool {
	arena.mu.Lock()
	defer arena.mu.Unlock()
	if arena.users == 0 {
		arena.on = shareArena() == nil
	}
	arena.users++
	return arena.on
}

// leaveArena counts a session closed, or one that failed to open, and
// unregisters the arena when none is left open.
func leaveArena() {
	arena.mu.Lock()
	defer arena.mu.Unlock()
	if arena.users--; arena.users > 0 || !arena.on {
		return
	}
	if mem, err := ortgo.GetMemoryInfo(); err == nil && ortgo.UnregisterAllocator(mem) == nil {
		arena.on = false
	}
}

// loadLibrary creates the environment from lib, or checks that it was
// created from the same file, and returns the path it was created from.
func loadLibrary(lib string, verbose bool) (string, error) {
	st, err := os.Stat(lib)
	if err != nil {
		return "", fmt.Errorf("ort: ONNX Runtime library: %w", err)
	}
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.lib != "" {
		if os.SameFile(st, env.file) {
			return env.lib, nil
		}
		return "", fmt.Errorf("%w: ONNX Runtime is already loaded from %s in this process and cannot also be loaded from %s; open every model with one library", ErrSecondLibrary, env.lib, lib)
	}
	if ortgo.IsInitialized() {
		return "", fmt.Errorf("ort: the ONNX Runtime environment was created outside package ort; open models only through ort.Open so that one library is loaded once")
	}
	ortgo.SetSharedLibraryPath(lib)
	// The environment's logger reports what happens outside a session, such
	// as loading execution providers; quiet unless the first Open asks.
	level, option := envLogLevel(verbose), ortgo.WithLogLevelError()
	if verbose {
		option = ortgo.WithLogLevelWarning()
	}
	if err := ortgo.InitializeEnvironment(option); err != nil {
		return "", fmt.Errorf("ort: loading ONNX Runtime from %s: %w; it must be a libonnxruntime.so 1.24 or newer built for this machine (scripts/setup-ort.sh installs one)", lib, err)
	}
	env.lib, env.file, env.level = lib, st, level
	return lib, nil
}

// shareArena registers one CPU arena with the environment for the sessions
// to allocate from (they ask for it with session.use_env_allocators),
// growing by what each allocation asks for rather than by powers of two.
//
// With an arena per session and ONNX Runtime's default growth, an attack's
// two sessions (the deployed model's and the gradient graph's) each held
// their own peak and rounded every extension up to the next power of two:
// ConvNeXt-T's FGSM attack at batch 16 peaked at 4.65 GB, 3.57 GB with the
// shared arena (same speed; README, "ONNX Runtime's memory, shared", has
// the whole attack's figures before and after). Where ONNX Runtime
// refuses, sessions keep their own arenas as before.
func shareArena() error {
	mem, err := ortgo.GetMemoryInfo()
	if err != nil {
		return err
	}
	cfg, err := ortgo.NewArenaCfgV2(map[string]int{"arena_extend_strategy": arenaSameAsRequested})
	if err != nil {
		return err
	}
	defer cfg.Destroy()
	return ortgo.CreateAndRegisterAllocator(mem, cfg)
}

// arenaSameAsRequested is ONNX Runtime's kSameAsRequested extend strategy.
const arenaSameAsRequested = 1

// envLogLevel is the environment's log level for Options.Verbose: errors
// only, since some (why an execution provider failed to load) are reported
// nowhere else; or warnings too (info lists every graph rewrite tried).
func envLogLevel(verbose bool) ortgo.LoggingLevel {
	if verbose {
		return ortgo.LoggingLevelWarning
	}
	return ortgo.LoggingLevelError
}

// sessionLogLevel is a session's log level for Options.Verbose: fatal only,
// since every error a session logs also comes back as a Go error; or
// warnings too.
func sessionLogLevel(verbose bool) ortgo.LoggingLevel {
	if verbose {
		return ortgo.LoggingLevelWarning
	}
	return ortgo.LoggingLevelFatal
}

// quietly runs try with the environment's log limited to fatal errors, so that
// an attempt whose failure is expected and reported does not also print
// ONNX Runtime's own error lines. The level is process-wide, so concurrent
// Opens wait.
func quietly(try func()) {
	env.mu.Lock()
	defer env.mu.Unlock()
	if ortgo.SetEnvironmentLogLevel(ortgo.LoggingLevelFatal) == nil {
		defer ortgo.SetEnvironmentLogLevel(env.level)
	}
	try()
}
