package ort

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/onnxguard/onnxguard/onnx"
)

// Devices that Options.Device accepts.
const (
	DeviceAuto = "auto" // CUDA when ONNX Runtime's CUDA provider loads, else CPU with a notice
	DeviceCPU  = "cpu"
	DeviceCUDA = "cuda"
)

// NCHWcDomain is the operator domain of ONNX Runtime's blocked-layout CPU
// kernels (MLAS's NCHWc): ReorderInput, ReorderOutput and Conv, whose
// tensors hold their channels in blocks of NCHWcBlock's size. ONNX
// Runtime's optimiser rewrites a model's Convs into them where the weights
// are constants; a graph that feeds its weights, as a training graph does,
// may use them directly.
const NCHWcDomain = "com.microsoft.nchwc"

// ErrNoForm is what OpenGraphForms' form returns for a block size it has
// no form of its own for.
var ErrNoForm = errors.New("ort: no blocked form")

// ErrNoCUDA is returned, wrapped, when Device "cuda" was asked for and ONNX
// Runtime's CUDA execution provider cannot be used.
var ErrNoCUDA = errors.New("ort: CUDA execution provider unavailable")

// ErrSecondLibrary is returned, wrapped, when a model is opened with
// another ONNX Runtime library than the one this process has loaded.
var ErrSecondLibrary = errors.New("ort: a second ONNX Runtime library")

// cudaProviderFiles are the libraries of ONNX Runtime's GPU build that it
// loads from the directory of libonnxruntime.so when the CUDA provider is
// appended. The npm CPU build that setup-ort.sh installs has neither.
var cudaProviderFiles = []string{"libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"}

// Options configure Open. A nil *Options means all defaults.
type Options struct {
	Library string // path of libonnxruntime.so; "" = FindLibrary("")
	Device  string // "cpu", "cuda" or "auto"; "" = "auto"
	Threads int    // intra-op threads; 0 = runtime.NumCPU()
	Verbose bool   // let ONNX Runtime log warnings and info, not just errors
	// Spin lets ONNX Runtime's threads spin, waiting for work, after a
	// run. Back-to-back runs (eval, predict) gain a little; where other
	// work comes between runs, as the interpreter's gradients do in an
	// attack, the spinning threads take the cores that work needs. Off by
	// default.
	Spin bool
	Warn io.Writer // one-line notices such as the cuda→cpu fallback; nil = os.Stderr
	// Check vets every model before ONNX Runtime sees it, within
	// MaxMemory bytes: ONNX Runtime trusts a model's attributes (a stride
	// of 0 kills the process with SIGFPE while it builds the session), so
	// a malformed or oversized model must be refused before. The
	// interpreter's pre-flight check, interp.PreflightCheck, is the one
	// onnxguard passes. Open refuses to run without a Check; NoCheck
	// opens a model trusted as it is.
	Check func(m *onnx.Model, maxMemory int64) error
	// MaxMemory is the memory budget in bytes that Check enforces; 0
	// means the checker's default (for interp.PreflightCheck, half the
	// physical memory).
	MaxMemory int64
}

// NoCheck is a Check that accepts every model: for models made or
// checked by the caller, never for files from elsewhere.
func NoCheck(*onnx.Model, int64) error { return nil }

// errNoCheck is Open's answer to Options without a Check.
var errNoCheck = errors.New("ort: Options.Check is not set: ONNX Runtime trusts a model's attributes and a malformed one can crash the process; pass interp.PreflightCheck, or NoCheck for a model you made or checked")

// TensorInfo describes one model input or output.
type TensorInfo struct {
	Name  string
	Shape []int64 // -1 for a dynamic axis
	Type  string  // ONNX element type in NumPy spelling: "float32", "int64", …; or "sequence", "map", … for non-tensors
}

// String gives the name, type and shape, as error messages show them.
func (t TensorInfo) String() string {
	return fmt.Sprintf("%q %s %v", t.Name, t.Type, t.Shape)
}

// settings are Options validated and with defaults filled in.
type settings struct {
	library string
	device  string
	threads int
	verbose bool
	spin    bool
	warn    io.Writer
	check   func(*onnx.Model, int64) error
	budget  int64
}

func (o *Options) settings() (settings, error) {
	var opt Options
	if o != nil {
		opt = *o
	}
	s := settings{
		device:  strings.ToLower(strings.TrimSpace(opt.Device)),
		threads: opt.Threads,
		verbose: opt.Verbose,
		spin:    opt.Spin,
		warn:    opt.Warn,
		check:   opt.Check,
		budget:  opt.MaxMemory,
	}
	switch s.device {
	case "":
		s.device = DeviceAuto
	case DeviceAuto, DeviceCPU, DeviceCUDA:
	default:
		return s, fmt.Errorf("ort: unknown device %q; use one of %s, %s, %s", opt.Device, DeviceAuto, DeviceCPU, DeviceCUDA)
	}
	switch {
	case s.threads < 0:
		return s, fmt.Errorf("ort: Threads = %d; use 0 for one per CPU core (%d here) or a positive count", s.threads, runtime.NumCPU())
	case s.threads == 0:
		s.threads = runtime.NumCPU()
	}
	if s.warn == nil {
		s.warn = os.Stderr
	}
	if s.budget < 0 {
		return s, fmt.Errorf("ort: MaxMemory = %d; use 0 for the default budget or a positive number of bytes", s.budget)
	}
	lib, err := FindLibrary(opt.Library)
	if err != nil {
		return s, err
	}
	s.library = lib
	return s, nil
}

// missingCUDAFiles returns the directory where ONNX Runtime looks for its
// CUDA provider libraries, beside lib as given (ONNX Runtime does not resolve
// symbolic links to find it), and which of them are not there.
func missingCUDAFiles(lib string) (dir string, missing []string) {
	dir = filepath.Dir(lib)
	for _, f := range cudaProviderFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	return dir, missing
}

// errCUDAFilesMissing explains a failed check of missingCUDAFiles.
func errCUDAFilesMissing(dir string, missing []string) error {
	return fmt.Errorf("%w: %s missing from %s (the directory of the ONNX Runtime library); the npm CPU build from setup-ort.sh does not include them: install ONNX Runtime's GPU build (e.g. onnxruntime-gpu %s for Linux) and load its libonnxruntime.so instead, or run on the CPU",
		ErrNoCUDA, strings.Join(missing, " and "), dir, "1.24.x")
}

// oneLine makes a notice printable as a single line: ONNX Runtime's messages
// can span several.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
