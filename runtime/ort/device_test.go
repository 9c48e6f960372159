//go:build cgo

package ort

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gpuBuild says whether the installed library has ONNX Runtime's CUDA
// provider beside it.
func gpuBuild() bool {
	_, missing := missingCUDAFiles(testLib)
	return len(missing) == 0
}

func TestDevices(t *testing.T) {
	needORT(t)
	if gpuBuild() {
		t.Skip("the installed ONNX Runtime is a GPU build; TestCUDA covers it")
	}
	for i, test := range []struct {
		device     string
		want       string   // Device() after Open
		wantWarn   []string // the one line written to Warn; nil for none
		wantErr    []string
		wantNoCUDA bool
	}{
		{device: "cpu", want: "cpu"},
		{device: "auto", want: "cpu", wantWarn: []string{"running on CPU", "libonnxruntime_providers_cuda.so", testDir}},
		{device: "", want: "cpu", wantWarn: []string{"running on CPU"}},
		{device: "tpu", wantErr: []string{`"tpu"`, "auto, cpu, cuda"}},
		{device: "cuda", wantNoCUDA: true, wantErr: []string{"libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so missing from " + testDir, "onnxruntime-gpu", "or run on the CPU"}},
	} {
		var warn bytes.Buffer
		s, err := Open("testdata/mlp_dynamic.onnx", &Options{Check: interp.PreflightCheck, Library: testLib, Device: test.device, Warn: &warn})
		if test.wantErr != nil {
			if err == nil {
				s.Close()
				t.Errorf("%d: device %q: Open succeeded on %s; want an error", i, test.device, s.Device())
				continue
			}
			if test.wantNoCUDA != errors.Is(err, ErrNoCUDA) {
				t.Errorf("%d: device %q: errors.Is(%q, ErrNoCUDA) = %v", i, test.device, err, !test.wantNoCUDA)
			}
			for _, w := range test.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%d: device %q: error %q does not mention %q", i, test.device, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%d: device %q: %v", i, test.device, err)
			continue
		}
		s.Close()
		if s.Device() != test.want {
			t.Errorf("%d: device %q: Device() = %q, want %q", i, test.device, s.Device(), test.want)
		}
		checkWarning(t, fmt.Sprintf("%d: device %q", i, test.device), warn.String(), test.wantWarn)
	}
}

// checkWarning checks that got is exactly one line mentioning all of want,
// or empty when want is nil.
func checkWarning(t *testing.T, what, got string, want []string) {
	t.Helper()
	if want == nil {
		if got != "" {
			t.Errorf("%s: warned %q; want nothing", what, got)
		}
		return
	}
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Errorf("%s: warned %q; want exactly one line", what, got)
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: warning %q does not mention %q", what, got, w)
		}
	}
}

// TestCUDAProviderFails puts unloadable provider files beside the library, so
// ONNX Runtime itself tries and fails to add the CUDA provider.
func TestCUDAProviderFails(t *testing.T) {
	needORT(t)
	if gpuBuild() {
		t.Skip("the installed ONNX Runtime is a GPU build; not replacing its providers")
	}
	for _, f := range cudaProviderFiles {
		touch(t, filepath.Join(testDir, f))
		defer os.Remove(filepath.Join(testDir, f))
	}
	var warn bytes.Buffer
	s, err := Open("testdata/mlp_dynamic.onnx", &Options{Check: interp.PreflightCheck, Library: testLib, Device: DeviceAuto, Warn: &warn})
	if err != nil {
		t.Fatalf("auto with broken CUDA provider: %v; want a fallback to CPU", err)
	}
	s.Close()
	if s.Device() != DeviceCPU {
		t.Errorf("auto with broken CUDA provider: Device() = %q, want cpu", s.Device())
	}
	checkWarning(t, "auto with broken CUDA provider", warn.String(), []string{"running on CPU", "Failed to load shared library"})

	// ONNX Runtime logs why to stderr too; this test expects that line.
	s, err = Open("testdata/mlp_dynamic.onnx", &Options{Check: interp.PreflightCheck, Library: testLib, Device: DeviceCUDA})
	if err == nil {
		s.Close()
		t.Fatalf("cuda with broken CUDA provider: Open succeeded")
	}
	if !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), "Failed to load shared library") {
		t.Errorf("cuda with broken CUDA provider: %q; want ErrNoCUDA with ONNX Runtime's message", err)
	}
}

// TestCUDA runs when the installed library is ONNX Runtime's GPU build and
// this machine has an NVIDIA GPU.
func TestCUDA(t *testing.T) {
	needORT(t)
	if !gpuBuild() {
		t.Skip("the installed ONNX Runtime is a CPU build (no CUDA provider beside it); point ONNXRUNTIME_LIB at a GPU build to test CUDA")
	}
	if _, err := os.Stat("/dev/nvidiactl"); err != nil {
		t.Skip("no NVIDIA GPU on this machine")
	}
	var warn bytes.Buffer
	for _, device := range []string{DeviceCUDA, DeviceAuto} {
		s := openModel(t, "mlp_dynamic.onnx", &Options{Check: interp.PreflightCheck, Library: testLib, Device: device, Warn: &warn})
		if s.Device() != DeviceCUDA {
			t.Errorf("device %s: Device() = %q, want cuda", device, s.Device())
		}
		x := randomInput(5, 8*4)
		got, _, err := s.Run(nil, x, 8)
		if err != nil || !close32(got, handLogits(x), 1e-4) {
			t.Errorf("device %s: Run = %v, %v; want %v", device, got, err, handLogits(x))
		}
	}
	checkWarning(t, "cuda", warn.String(), nil)
}
